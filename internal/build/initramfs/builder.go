package initramfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// ErrConflict marks a path added twice with different content, or an entry whose parent
// directory is something else than a directory in the archive.
var ErrConflict = errors.New("conflicting entry")

// ErrInvalidPath marks a destination path that is not absolute and clean, or is the root.
var ErrInvalidPath = errors.New("invalid path")

// ErrSourceChanged marks a host file whose content changed between being added and written.
var ErrSourceChanged = errors.New("source file changed after it was added")

// File type bits of a cpio mode (the S_IF* constants of stat(2)).
const (
	typeMask  = 0o170000
	typeDir   = 0o040000
	typeReg   = 0o100000
	typeLink  = 0o120000
	typeChar  = 0o020000
	typeBlock = 0o060000
)

// maxPath is the kernel's PATH_MAX: its initramfs unpacker skips longer names.
const maxPath = 4096

// Builder collects the entries of an initramfs, keyed by absolute path. The zero value is not
// usable: call New.
type Builder struct {
	// ModTime is the modification time of every entry. The zero value means the Unix epoch.
	ModTime time.Time

	entries map[string]*entry
	modules *moduleSet
}

// entry is one archive member other than the implicit parent directories.
type entry struct {
	mode         uint32            // type and permission bits
	size         int64             // length of the content
	sum          [sha256.Size]byte // of the content: file data or symlink target
	data         []byte            // content held in memory (AddData, symlinks, generated files)
	src          string            // host file holding the content (AddFile)
	major, minor uint32            // device number of a device node
}

// New returns a Builder holding the entries every kiln initramfs has: the mount points /dev,
// /proc, /sys, /run, /sysroot (0755) and /tmp (01777), and the device nodes /dev/console
// (char 5:1, 0600) and /dev/null (char 1:3, 0666).
func New() *Builder {
	b := &Builder{entries: map[string]*entry{}}
	for _, d := range []string{"/dev", "/proc", "/sys", "/run", "/sysroot"} {
		b.entries[d] = dirEntry(0o755)
	}
	b.entries["/tmp"] = dirEntry(0o777 | fs.ModeSticky)
	b.entries["/dev/console"] = deviceEntry(true, 5, 1, 0o600)
	b.entries["/dev/null"] = deviceEntry(true, 1, 3, 0o666)
	return b
}

// AddFile adds the regular file hostSrc (symlinks on the host followed) as dst with the given
// permission bits (setuid, setgid and sticky included); mode 0 takes those of hostSrc. The
// content is read when added, to compare it with other entries for dst, and again by WriteTo.
func (b *Builder) AddFile(dst, hostSrc string, mode fs.FileMode) error {
	e, err := fileEntry(hostSrc, mode)
	if err != nil {
		return fmt.Errorf("add %s: %w", dst, err)
	}
	return b.add(dst, e)
}

// AddData adds a regular file dst holding data with the given permission bits.
func (b *Builder) AddData(dst string, data []byte, mode fs.FileMode) error {
	return b.add(dst, dataEntry(typeReg, data, mode))
}

// AddDir adds the directory dst with the given permission bits. Directories that are only
// parents of other entries need not be added: WriteTo creates them 0755.
func (b *Builder) AddDir(dst string, mode fs.FileMode) error {
	return b.add(dst, dirEntry(mode))
}

// AddSymlink adds dst as a symbolic link to target.
func (b *Builder) AddSymlink(dst, target string) error {
	if target == "" || len(target) >= maxPath {
		return fmt.Errorf("add %s: %w: symlink target %q", dst, ErrInvalidPath, target)
	}
	return b.add(dst, dataEntry(typeLink, []byte(target), 0o777))
}

// AddDevice adds the device node dst: a character device when char is true, else a block
// device, with the given number and permission bits.
func (b *Builder) AddDevice(dst string, char bool, major, minor uint32, mode fs.FileMode) error {
	return b.add(dst, deviceEntry(char, major, minor, mode))
}

// add adds one entry, see addAll.
func (b *Builder) add(dst string, e *entry) error {
	return b.addAll(map[string]*entry{dst: e})
}

// addAll adds entries, all of them or, on an error, none.
func (b *Builder) addAll(entries map[string]*entry) error {
	paths := slices.Sorted(maps.Keys(entries))
	for _, p := range paths {
		if err := checkPath(p); err != nil {
			return fmt.Errorf("add %s: %w", p, err)
		}
		if err := checkSame(p, b.entries[p], entries[p]); err != nil {
			return fmt.Errorf("add %s: %w", p, err)
		}
	}
	for _, p := range paths {
		if _, ok := b.entries[p]; !ok {
			b.entries[p] = entries[p]
		}
	}
	return nil
}

// checkPath accepts absolute, clean paths other than the root, shorter than PATH_MAX.
func checkPath(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" || len(p) >= maxPath {
		return fmt.Errorf("%w: want an absolute clean path below /", ErrInvalidPath)
	}
	return nil
}

// checkSame returns an ErrConflict error unless old is nil or has the same content as e.
func checkSame(p string, old, e *entry) error {
	if old == nil || old.same(e) {
		return nil
	}
	return fmt.Errorf("%w: %s is already a %s, cannot also be a %s", ErrConflict, p, old, e)
}

func (e *entry) same(o *entry) bool {
	return e.mode == o.mode && e.size == o.size && e.sum == o.sum &&
		e.major == o.major && e.minor == o.minor
}

// String describes the entry for error messages.
func (e *entry) String() string {
	perm := e.mode &^ typeMask
	switch e.mode & typeMask {
	case typeDir:
		return fmt.Sprintf("directory %04o", perm)
	case typeLink:
		return fmt.Sprintf("symlink to %q", e.data)
	case typeChar, typeBlock:
		kind := "block"
		if e.mode&typeMask == typeChar {
			kind = "char"
		}
		return fmt.Sprintf("%s device %d:%d %04o", kind, e.major, e.minor, perm)
	default:
		return fmt.Sprintf("file %04o of %d bytes, sha256 %s", perm, e.size, hex.EncodeToString(e.sum[:8]))
	}
}

// permBits turns permission, setuid, setgid and sticky bits into cpio mode bits; other bits of m
// are ignored.
func permBits(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return bits
}

func dirEntry(mode fs.FileMode) *entry {
	return &entry{mode: typeDir | permBits(mode)}
}

func deviceEntry(char bool, major, minor uint32, mode fs.FileMode) *entry {
	t := uint32(typeBlock)
	if char {
		t = typeChar
	}
	return &entry{mode: t | permBits(mode), major: major, minor: minor}
}

func dataEntry(typ uint32, data []byte, mode fs.FileMode) *entry {
	return &entry{mode: typ | permBits(mode), size: int64(len(data)), sum: sha256.Sum256(data), data: bytes.Clone(data)}
}

// fileEntry reads the regular file src for its size and digest.
func fileEntry(src string, mode fs.FileMode) (*entry, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", src)
	}
	if mode == 0 {
		mode = fi.Mode()
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	e := &entry{mode: typeReg | permBits(mode), size: n, src: src}
	h.Sum(e.sum[:0])
	return e, nil
}

// name is the archive name of path p: relative to the root, "." for the root itself.
func name(p string) string {
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}
