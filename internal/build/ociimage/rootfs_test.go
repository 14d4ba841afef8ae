package ociimage

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
)

func TestFromRootfsHost(t *testing.T) {
	const bin = "/usr/bin/ls"
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("host has no %s: %v", bin, err)
	}
	files, err := FromRootfs("/", []string{bin})
	if err != nil {
		t.Fatal(err)
	}
	byBase := func(base string, symlink bool) *File {
		i := slices.IndexFunc(files, func(f File) bool { return path.Base(f.Path) == base && (f.Symlink != "") == symlink })
		if i < 0 {
			return nil
		}
		return &files[i]
	}
	for _, base := range []string{"ls", "libc.so.6", "ld-linux-x86-64.so.2"} {
		f := byBase(base, false)
		if f == nil {
			t.Errorf("no regular file %s in %+v", base, files)
			continue
		}
		if f.Source != filepath.Join("/", f.Path) || f.Mode.Perm()&0o444 != 0o444 {
			t.Errorf("%s: source %s mode %s, want source at the same path and readable", f.Path, f.Source, f.Mode)
		}
	}
	if f := byBase("ls", false); f != nil && f.Mode.Perm() != 0o755 {
		t.Errorf("%s has mode %s, want 0755", f.Path, f.Mode)
	}
	// The interpreter's own name (/lib64/ld-linux-x86-64.so.2 on Debian) must be there too,
	// as the file or a symlink to it, since the kernel opens exactly the PT_INTERP path.
	if _, err := os.Lstat("/lib64/ld-linux-x86-64.so.2"); err == nil {
		if !slices.ContainsFunc(files, func(f File) bool {
			return f.Path == "/lib64/ld-linux-x86-64.so.2" || f.Path == "/lib64"
		}) {
			t.Errorf("no /lib64/ld-linux-x86-64.so.2 or /lib64 in %+v", files)
		}
	}

	img, err := Build(Spec{Ref: "registry.k8s.io/ls:v1", Files: files, Entrypoint: []string{bin}})
	if err != nil {
		t.Fatalf("Build with the files: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("running the image's ls in a chroot needs root")
	}
	dir := t.TempDir()
	extract(t, img, dir)
	cmd := exec.Command(bin, "/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tmp") {
		t.Errorf("ls in the image's tree: %v, output %q", err, out)
	}
}

// extract unpacks img's layers into dir.
func extract(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.Mkdir(target, hdr.FileInfo().Mode().Perm())
		case tar.TypeSymlink:
			err = os.Symlink(hdr.Linkname, target)
		case tar.TypeReg:
			var data []byte
			if data, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(target, data, hdr.FileInfo().Mode().Perm())
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	spec := testSpec(t)
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "image.tar")
	out, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociarchive.Write(out, img, spec.Ref); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := ociarchive.Read(archive)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("archive lists %d images, want 1: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.RefName != spec.Ref || e.ManifestDigest != digest || e.Platform.OS != OS || e.Platform.Architecture != Architecture {
		t.Errorf("archive entry %+v, want ref %s digest %s platform %s/%s", e, spec.Ref, digest, OS, Architecture)
	}
}
