package diskimage

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf16"
)

// node is a file or directory of a tree built from a []File.
type node struct {
	name     string
	dir      bool
	children []*node // sorted by name; directories only
	file     File
	size     int64

	// Filled in by the FAT or ISO writer.
	short   [11]byte // FAT 8.3 name
	lfn     bool     // FAT: needs long-name entries
	isoID   string   // ISO 9660 identifier
	first   uint32   // FAT: first cluster; ISO: extent LBA
	dirSize int64    // directory byte length
	parent  *node
}

// buildTree validates files and arranges them as a tree under a root directory, children
// sorted by name. Sizes of Source files are taken now; copying checks them again.
func buildTree(files []File) (*node, error) {
	root := &node{dir: true}
	seen := map[string]bool{}
	for _, f := range files {
		if err := checkPath(f.Path); err != nil {
			return nil, err
		}
		if f.Source != "" && f.Data != nil {
			return nil, fmt.Errorf("%w: %s: both Source and Data set", ErrInvalidFile, f.Path)
		}
		key := strings.ToUpper(f.Path)
		if seen[key] {
			return nil, fmt.Errorf("%w: %s: duplicate path (names are case-insensitive)", ErrInvalidFile, f.Path)
		}
		seen[key] = true
		size := int64(len(f.Data))
		if f.Source != "" {
			fi, err := os.Stat(f.Source)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Path, err)
			}
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%w: %s: source %s is not a regular file", ErrInvalidFile, f.Path, f.Source)
			}
			size = fi.Size()
		}
		parts := strings.Split(f.Path, "/")
		dir := root
		for _, p := range parts[:len(parts)-1] {
			next := dir.child(p)
			switch {
			case next == nil:
				next = &node{name: p, dir: true, parent: dir}
				dir.children = append(dir.children, next)
			case !next.dir:
				return nil, fmt.Errorf("%w: %s: %s is a file", ErrInvalidFile, f.Path, p)
			}
			dir = next
		}
		base := parts[len(parts)-1]
		if c := dir.child(base); c != nil {
			return nil, fmt.Errorf("%w: %s: already a directory", ErrInvalidFile, f.Path)
		}
		dir.children = append(dir.children, &node{name: base, file: f, size: size, parent: dir})
	}
	root.walk(func(n *node) {
		slices.SortFunc(n.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	})
	return root, nil
}

// checkPath accepts relative, clean slash paths whose components are valid long FAT names.
func checkPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w: path %q: %s", ErrInvalidFile, p, why) }
	if p == "" || strings.HasPrefix(p, "/") {
		return bad("must be relative and not empty")
	}
	for c := range strings.SplitSeq(p, "/") {
		switch {
		case c == "" || c == "." || c == "..":
			return bad("must be clean")
		case len(utf16.Encode([]rune(c))) > 255:
			return bad("component longer than 255 characters")
		case strings.HasSuffix(c, ".") || strings.HasSuffix(c, " ") || strings.HasPrefix(c, " "):
			return bad("component starts with a space or ends with a dot or space")
		case strings.ContainsFunc(c, func(r rune) bool { return r < 0x20 || strings.ContainsRune(`"*:<>?\|`, r) }):
			return bad(`component has a control character or one of "*:<>?\|`)
		}
	}
	return nil
}

// child returns n's direct child with name (case-insensitively), or nil.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}

// walk calls fn for n and, depth first in order, every directory below it.
func (n *node) walk(fn func(*node)) {
	if !n.dir {
		return
	}
	fn(n)
	for _, c := range n.children {
		c.walk(fn)
	}
}

// path is n's path from the root, for messages.
func (n *node) path() string {
	if n.parent == nil {
		return "/"
	}
	if n.parent.parent == nil {
		return n.name
	}
	return n.parent.path() + "/" + n.name
}

// copyTo writes n's content at off in dst and checks that it still has the size it had.
func (n *node) copyTo(dst *os.File, off int64) error {
	if n.file.Source == "" {
		if _, err := dst.WriteAt(n.file.Data, off); err != nil {
			return fmt.Errorf("%s: %w", n.path(), err)
		}
		return nil
	}
	if err := copyFile(dst, off, n.file.Source, n.size); err != nil {
		return fmt.Errorf("%s: %w", n.path(), err)
	}
	return nil
}

// copyFile copies the file src, which must be size bytes long, to off in dst. Seeking and
// io.Copy let the kernel copy (copy_file_range) instead of going through a buffer.
func copyFile(dst *os.File, off int64, src string, size int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := dst.Seek(off, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(dst, io.LimitReader(f, size+1))
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if n != size {
		return fmt.Errorf("copy %s: size changed from %d to %d bytes while building", src, size, n)
	}
	return nil
}
