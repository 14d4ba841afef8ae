package elfdeps

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ErrLibraryNotFound marks a DT_NEEDED library that is in none of the directories searched.
var ErrLibraryNotFound = errors.New("library not found")

// ErrNotRegular marks a path that resolves to something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// DefaultLibraryDirs are the directories searched after an object's RPATH and RUNPATH, in
// order: Debian's multiarch directories for amd64 first, as its dynamic loader does.
var DefaultLibraryDirs = []string{
	"/lib/x86_64-linux-gnu",
	"/usr/lib/x86_64-linux-gnu",
	"/lib64",
	"/usr/lib64",
	"/lib",
	"/usr/lib",
}

// maxSymlinks is how many symlinks one resolution may follow, as Linux's ELOOP limit.
const maxSymlinks = 40

// Resolve returns the given files inside root and everything they need at run time: the ELF
// interpreter and shared libraries, transitively, and every symlink passed while resolving any
// of them (the symlinks themselves and their targets, directory symlinks such as /lib64 →
// usr/lib64 included). All paths are absolute paths inside root, sorted and without duplicates;
// none of them has a symlink among its parent directories.
//
// A file that is not ELF (a script, a data file) is returned without dependencies. A library that
// cannot be found is an ErrLibraryNotFound error naming the object that needs it and the library.
func Resolve(root string, paths ...string) ([]string, error) {
	r := &resolver{root: root, found: map[string]bool{}, scanned: map[string]bool{}}
	for _, p := range paths {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("resolve %s: path is not absolute", p)
		}
		if err := r.add(p); err != nil {
			return nil, fmt.Errorf("resolve %s in %s: %w", p, root, err)
		}
	}
	out := make([]string, 0, len(r.found))
	for p := range r.found {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

type resolver struct {
	root    string
	found   map[string]bool // paths inside root to return
	scanned map[string]bool // regular files whose dependencies were already added
}

// host returns the host path of p, a path inside the root.
func (r *resolver) host(p string) string {
	return filepath.Join(r.root, filepath.FromSlash(p))
}

// add records p, the symlinks leading to it and, for an ELF file, its dependencies.
func (r *resolver) add(p string) error {
	real, links, err := r.follow(p)
	if err != nil {
		return err
	}
	for _, l := range links {
		r.found[l] = true
	}
	r.found[real] = true
	if r.scanned[real] {
		return nil
	}
	r.scanned[real] = true

	f, err := elf.Open(r.host(real))
	if err != nil {
		if notELF(err) {
			return nil
		}
		return fmt.Errorf("read %s: %w", real, err)
	}
	defer f.Close()
	interp, err := interpreter(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", real, err)
	}
	if interp != "" {
		if err := r.add(interp); err != nil {
			return fmt.Errorf("interpreter of %s: %w", real, err)
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		return fmt.Errorf("read %s: %w", real, err)
	}
	dirs, err := searchDirs(f, path.Dir(real))
	if err != nil {
		return fmt.Errorf("read %s: %w", real, err)
	}
	for _, lib := range needed {
		lp, err := r.findLibrary(lib, dirs, f)
		if err != nil {
			return fmt.Errorf("%s needs %s: %w", real, lib, err)
		}
		if err := r.add(lp); err != nil {
			return err
		}
	}
	return nil
}

// notELF tells whether err from elf.Open means the file is not ELF at all.
func notELF(err error) bool {
	var fe *elf.FormatError
	return errors.As(err, &fe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// interpreter returns the PT_INTERP path of f, or "" for a static program or a library without.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}

// searchDirs returns the directories the dynamic loader searches for f's libraries: RPATH (only
// when there is no RUNPATH), RUNPATH, then DefaultLibraryDirs. $ORIGIN is the directory of f.
func searchDirs(f *elf.File, origin string) ([]string, error) {
	runpath, err := f.DynString(elf.DT_RUNPATH)
	if err != nil {
		return nil, err
	}
	var dirs []string
	if len(runpath) == 0 {
		rpath, err := f.DynString(elf.DT_RPATH)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, splitPath(rpath, origin)...)
	}
	dirs = append(dirs, splitPath(runpath, origin)...)
	return append(dirs, DefaultLibraryDirs...), nil
}

func splitPath(values []string, origin string) []string {
	var dirs []string
	for _, v := range values {
		for _, d := range strings.Split(v, ":") {
			d = strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin).Replace(d)
			if path.IsAbs(d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// findLibrary returns the path inside the root of the first lib in dirs that is an ELF object
// of the same class and machine as the object that needs it, as the dynamic loader skips others.
func (r *resolver) findLibrary(lib string, dirs []string, needer *elf.File) (string, error) {
	if strings.Contains(lib, "/") {
		return lib, nil
	}
	for _, dir := range dirs {
		p := path.Join(dir, lib)
		real, _, err := r.follow(p)
		if err != nil {
			continue
		}
		f, err := elf.Open(r.host(real))
		if err != nil {
			continue
		}
		ok := f.Class == needer.Class && f.Machine == needer.Machine
		f.Close()
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w in %s", ErrLibraryNotFound, strings.Join(dirs, ":"))
}

// follow resolves p inside the root, following symlinks chroot-style: absolute targets restart
// at the root, ".." stops at it. It returns the resolved path, which is a regular file, and the
// symlinks passed on the way, each named by its path with resolved parents.
func (r *resolver) follow(p string) (string, []string, error) {
	var links []string
	done, rest := "/", p
	for rest != "" {
		var name string
		name, rest, _ = strings.Cut(rest, "/")
		switch name {
		case "", ".":
			continue
		case "..":
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, name)
		fi, err := os.Lstat(r.host(next))
		if err != nil {
			return "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if len(links) == maxSymlinks {
			return "", nil, fmt.Errorf("%s: more than %d symlinks", p, maxSymlinks)
		}
		links = append(links, next)
		target, err := os.Readlink(r.host(next))
		if err != nil {
			return "", nil, err
		}
		if path.IsAbs(target) {
			done = "/"
		}
		rest = target + "/" + rest
	}
	fi, err := os.Stat(r.host(done))
	if err != nil {
		return "", nil, err
	}
	if !fi.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s: %w", done, ErrNotRegular)
	}
	return done, links, nil
}
