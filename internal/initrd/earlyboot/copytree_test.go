package earlyboot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// srcTree writes a tree with what Debian's /var can hold and returns it.
func srcTree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "var")
	for _, d := range []struct {
		path string
		mode uint32
	}{
		{"", 0o755}, {"lib", 0o755}, {"lib/dpkg", 0o755}, {"mail", 0o2775}, {"tmp", 0o1777}, {"cache/private", 0o700},
	} {
		if err := os.MkdirAll(filepath.Join(src, d.path), 0o755); err != nil {
			t.Fatal(err)
		}
		defer chmod(t, filepath.Join(src, d.path), d.mode) // after the entries are created
	}
	writeFile(t, filepath.Join(src, "lib/dpkg/status"), "Package: kiln\n")
	writeFile(t, filepath.Join(src, "lib/suid"), "#!/bin/true\n")
	chmod(t, filepath.Join(src, "lib/suid"), 0o4755)
	if err := os.Link(filepath.Join(src, "lib/dpkg/status"), filepath.Join(src, "lib/status-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/lock", filepath.Join(src, "lock")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(src, "lib/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(src, "mail"), 0, 8); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(src, "lock"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lsetxattr(filepath.Join(src, "lib/dpkg/status"), "user.kiln", []byte("x"), 0); err != nil {
		t.Logf("no user xattrs here: %v", err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(src, "lib/dpkg/status"), old, old); err != nil {
		t.Fatal(err)
	}
	return src
}

func chmod(t *testing.T, p string, mode uint32) {
	t.Helper()
	if err := unix.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func TestCopyTree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to keep owners and make FIFOs")
	}
	src := srcTree(t)
	dst := filepath.Join(t.TempDir(), "newvar")
	n, err := copyTree(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Errorf("copied %d entries, want 12", n)
	}
	assertSameTree(t, src, dst)

	var a, b unix.Stat_t
	_ = unix.Stat(filepath.Join(dst, "lib/dpkg/status"), &a)
	_ = unix.Stat(filepath.Join(dst, "lib/status-link"), &b)
	if a.Ino != b.Ino {
		t.Error("the hard link became two files")
	}
	val := make([]byte, 8)
	if _, err := unix.Lgetxattr(filepath.Join(src, "lib/dpkg/status"), "user.kiln", val); err == nil {
		if n, err := unix.Lgetxattr(filepath.Join(dst, "lib/dpkg/status"), "user.kiln", val); err != nil || string(val[:n]) != "x" {
			t.Errorf("xattr user.kiln not copied: %q, %v", val[:n], err)
		}
	}
}

func TestCopyTreeAgain(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to keep owners and make FIFOs")
	}
	src := srcTree(t)
	dst := filepath.Join(t.TempDir(), "newvar")
	// What an interrupted copy, or a node, left behind: copied again over it.
	writeFile(t, filepath.Join(dst, "lib/dpkg/status"), "half")
	writeFile(t, filepath.Join(dst, "lock/stale"), "a directory where the image has a symlink")
	writeFile(t, filepath.Join(dst, "lib/node-data"), "kept")
	if _, err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dst, "lib/node-data")); err != nil {
		t.Errorf("the node's own file is gone: %v", err)
	}
	assertSameTree(t, src, dst)
}

func TestCopyTreeErrors(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	writeFile(t, f, "x")
	if _, err := copyTree(f, t.TempDir()); err == nil {
		t.Error("copyTree of a file succeeded")
	}
	if _, err := copyTree(filepath.Join(t.TempDir(), "missing"), t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("copyTree of a missing directory = %v, want ErrNotExist", err)
	}
}

// assertSameTree compares type, mode, owner, mtime (not of directories, whose mtime the
// comparison's own reads do not change, but whose entries may) and content of both trees.
func assertSameTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		d := filepath.Join(dst, rel)
		var s, c unix.Stat_t
		if err := unix.Lstat(p, &s); err != nil {
			return err
		}
		if err := unix.Lstat(d, &c); err != nil {
			t.Errorf("%s: not copied: %v", rel, err)
			return nil
		}
		if s.Mode != c.Mode || s.Uid != c.Uid || s.Gid != c.Gid {
			t.Errorf("%s: mode %o owner %d:%d, want %o %d:%d", rel, c.Mode, c.Uid, c.Gid, s.Mode, s.Uid, s.Gid)
		}
		if s.Mode&unix.S_IFMT != unix.S_IFDIR && s.Mtim != c.Mtim {
			t.Errorf("%s: mtime %v, want %v", rel, c.Mtim, s.Mtim)
		}
		switch s.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(d)
			if string(a) != string(b) {
				t.Errorf("%s: content %q, want %q", rel, b, a)
			}
		case unix.S_IFLNK:
			a, _ := os.Readlink(p)
			b, _ := os.Readlink(d)
			if a != b {
				t.Errorf("%s: link to %q, want %q", rel, b, a)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
