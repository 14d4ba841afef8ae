package ociimage

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kilnproject/kiln/internal/build/elfdeps"
)

// FromRootfs returns the Files that carry the given programs (absolute paths inside the root
// filesystem directory rootfs, e.g. /usr/sbin/xtables-nft-multi) into an image at the same
// paths, together with their ELF interpreter and shared libraries, transitively. Symlinks on the
// way (/lib64, /usr/sbin/iptables → xtables-nft-multi, libfoo.so.1 → libfoo.so.1.2.3) stay
// symlinks; files keep their permission bits. A missing library is an error wrapping
// elfdeps.ErrLibraryNotFound that names the program and the library.
func FromRootfs(rootfs string, binaries []string) ([]File, error) {
	paths, err := elfdeps.Resolve(rootfs, binaries...)
	if err != nil {
		return nil, fmt.Errorf("files from %s: %w", rootfs, err)
	}
	files := make([]File, 0, len(paths))
	for _, p := range paths {
		host := filepath.Join(rootfs, filepath.FromSlash(p))
		fi, err := os.Lstat(host)
		if err != nil {
			return nil, fmt.Errorf("files from %s: %w", rootfs, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(host)
			if err != nil {
				return nil, fmt.Errorf("files from %s: %w", rootfs, err)
			}
			files = append(files, File{Path: p, Symlink: target})
			continue
		}
		files = append(files, File{Path: p, Source: host, Mode: fi.Mode().Perm()})
	}
	return files, nil
}
