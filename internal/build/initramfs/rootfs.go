package initramfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kilnproject/kiln/internal/build/elfdeps"
)

// AddFromRootfs adds programs (absolute paths inside the root filesystem directory rootfs, such
// as /usr/bin/ignition) at the same paths, with their ELF interpreter and shared libraries,
// transitively, as package elfdeps resolves them. Symlinks met on the way (/lib64 → usr/lib64,
// libfoo.so.1 → libfoo.so.1.2.3) are added as symlinks; files keep their permission bits. A
// missing library is an error wrapping elfdeps.ErrLibraryNotFound. Either every file is added or,
// on an error, none.
func (b *Builder) AddFromRootfs(rootfs string, paths ...string) error {
	found, err := elfdeps.Resolve(rootfs, paths...)
	if err != nil {
		return fmt.Errorf("add from %s: %w", rootfs, err)
	}
	entries, err := rootfsEntries(rootfs, found)
	if err != nil {
		return fmt.Errorf("add from %s: %w", rootfs, err)
	}
	if err := b.addAll(entries); err != nil {
		return fmt.Errorf("add from %s: %w", rootfs, err)
	}
	return nil
}

// rootfsEntries returns the entries for paths inside rootfs that are regular files or symlinks,
// as elfdeps.Resolve returns them.
func rootfsEntries(rootfs string, paths []string) (map[string]*entry, error) {
	entries := make(map[string]*entry, len(paths))
	for _, p := range paths {
		host := filepath.Join(rootfs, filepath.FromSlash(p))
		fi, err := os.Lstat(host)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(host)
			if err != nil {
				return nil, err
			}
			entries[p] = dataEntry(typeLink, []byte(target), 0o777)
			continue
		}
		e, err := fileEntry(host, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		if err != nil {
			return nil, err
		}
		entries[p] = e
	}
	return entries, nil
}
