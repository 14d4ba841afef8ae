package artifacts

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kilnproject/kiln/internal/build/ociimage"
)

// filesFromRootfs unpacks a rootfs tarball into a temporary directory and returns the image
// files for the wanted binaries with their shared libraries, plus the wanted symlinks. The
// files point into the directory, which cleanup removes.
func filesFromRootfs(tarball string, rf *RootfsFiles) (files []ociimage.File, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "kiln-rootfs-*")
	if err != nil {
		return nil, nil, err
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := unpack(tarball, dir); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("unpack %s: %w", tarball, err)
	}
	binaries, err := expandGlobs(dir, rf.Binaries)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	files, err = ociimage.FromRootfs(dir, binaries)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	links := make([]string, 0, len(rf.Symlinks))
	for p := range rf.Symlinks {
		links = append(links, p)
	}
	sort.Strings(links)
	for _, p := range links {
		files = append(files, ociimage.File{Path: p, Symlink: rf.Symlinks[p]})
	}
	return files, cleanup, nil
}

// expandGlobs replaces each pattern among paths (such as iptables' dlopen'ed extensions,
// /usr/lib/x86_64-linux-gnu/xtables/*.so) with the paths it matches in the unpacked rootfs; a
// pattern that matches nothing is an error, as a missing binary is.
func expandGlobs(dir string, paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("pattern %q matches nothing in the rootfs", p)
		}
		sort.Strings(matches)
		for _, m := range matches {
			out = append(out, "/"+filepath.ToSlash(strings.TrimPrefix(m, dir+string(filepath.Separator))))
		}
	}
	return out, nil
}

// unpack extracts regular files, directories, symlinks and hard links of a tarball under dir,
// refusing any entry that would land outside it. Device nodes and FIFOs are skipped: images
// take only programs and libraries from a rootfs.
func unpack(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		// A symlinked parent must not lead out of the tree (an absolute link would).
		parent, err := filepath.EvalSymlinks(filepath.Dir(target))
		if err != nil {
			return err
		}
		if parent != dir && !strings.HasPrefix(parent, dir+string(filepath.Separator)) {
			return fmt.Errorf("%s: its directory leads outside the tree", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr, hdr.FileInfo().Mode().Perm())
		case tar.TypeSymlink:
			err = os.Symlink(hdr.Linkname, target)
		case tar.TypeLink:
			old := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+hdr.Linkname)))
			if !strings.HasPrefix(old, dir+string(filepath.Separator)) {
				return fmt.Errorf("%s: hard link outside the tree", hdr.Name)
			}
			err = os.Link(old, target)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

func writeFile(path string, r io.Reader, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
