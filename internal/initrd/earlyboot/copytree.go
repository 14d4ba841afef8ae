package earlyboot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// copyTree copies the directory tree src into dst (created if missing) and returns the number
// of entries copied. It keeps owners, permission bits (setuid, setgid, sticky too), modification
// times, symlinks, hard links within the tree, device nodes, FIFOs and extended attributes where
// dst's filesystem takes them; sockets are skipped, and so are mount points below src. Existing
// entries of dst are replaced, so an interrupted copy can be run again.
func copyTree(src, dst string) (int, error) {
	var root unix.Stat_t
	if err := unix.Lstat(src, &root); err != nil {
		return 0, fmt.Errorf("copy %s: %w", src, err)
	}
	if root.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, fmt.Errorf("copy %s: not a directory", src)
	}
	c := &copier{dev: root.Dev, links: map[uint64]string{}}
	if err := c.copy(src, dst, &root); err != nil {
		return c.n, err
	}
	return c.n, nil
}

type copier struct {
	dev   uint64            // the source filesystem: other ones are mount points, not copied
	links map[uint64]string // inode of a multiply linked source file → its copy
	n     int
}

func (c *copier) copy(src, dst string, st *unix.Stat_t) error {
	mode := st.Mode & unix.S_IFMT
	if mode != unix.S_IFDIR {
		if err := removeExisting(dst); err != nil {
			return err
		}
	}
	switch mode {
	case unix.S_IFDIR:
		if err := c.copyDir(src, dst, st); err != nil {
			return err
		}
	case unix.S_IFREG:
		if first, ok := c.links[st.Ino]; ok && st.Nlink > 1 {
			if err := os.Link(first, dst); err != nil {
				return fmt.Errorf("copy %s: %w", src, err)
			}
			c.n++
			return nil
		}
		if err := copyFile(src, dst); err != nil {
			return err
		}
		if st.Nlink > 1 {
			c.links[st.Ino] = dst
		}
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		if err := os.Symlink(target, dst); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
	default: // sockets belong to running programs
		return nil
	}
	c.n++
	return setAttrs(src, dst, st)
}

// copyDir creates dst (keeping it if it is a directory already) and copies src's entries into it.
func (c *copier) copyDir(src, dst string, st *unix.Stat_t) error {
	if fi, err := os.Lstat(dst); err == nil && !fi.IsDir() {
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
	}
	if err := os.Mkdir(dst, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		var est unix.Stat_t
		if err := unix.Lstat(s, &est); err != nil {
			return fmt.Errorf("copy %s: %w", s, err)
		}
		if est.Dev != c.dev {
			continue // a mount point
		}
		if err := c.copy(s, d, &est); err != nil {
			return err
		}
	}
	return nil
}

// removeExisting removes dst if it exists: a file, a link or a whole directory tree.
func removeExisting(dst string) error {
	if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("replace %s: %w", dst, err)
	}
	return nil
}

// copyFile copies the content of the regular file src to the new file dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// setAttrs gives dst the extended attributes, owner, mode and times of src. The mode comes after
// the owner, since chown clears setuid and setgid bits.
func setAttrs(src, dst string, st *unix.Stat_t) error {
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("copy %s: chown: %w", src, err)
	}
	if !isLink {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return fmt.Errorf("copy %s: chmod: %w", src, err)
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("copy %s: set times: %w", src, err)
	}
	return nil
}

// copyXattrs copies the extended attributes of src to dst, if src's filesystem has any and dst's
// takes them; attributes of the namespaces dst refuses (ENOTSUP, EPERM) are left out.
func copyXattrs(src, dst string) error {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(src, buf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = unix.Llistxattr(src, nil); err == nil {
			buf = make([]byte, n)
			n, err = unix.Llistxattr(src, buf)
		}
	}
	if errors.Is(err, unix.ENOTSUP) || n == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy %s: list xattrs: %w", src, err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		sz, err := unix.Lgetxattr(src, name, nil)
		if err != nil {
			return fmt.Errorf("copy %s: xattr %s: %w", src, name, err)
		}
		val := make([]byte, sz)
		if sz, err = unix.Lgetxattr(src, name, val); err != nil {
			return fmt.Errorf("copy %s: xattr %s: %w", src, name, err)
		}
		err = unix.Lsetxattr(dst, name, val[:sz], 0)
		if err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("copy %s: xattr %s: %w", src, name, err)
		}
	}
	return nil
}
