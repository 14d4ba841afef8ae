package artifacts

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/kilnproject/kiln/internal/build/artifactstore"
	"github.com/kilnproject/kiln/internal/build/ociarchive"
)

// TestLockedArtifacts checks what `make artifacts` produced on this machine: every artifact of
// the lock is in the store with its hash, and every image archive reads back with the name the
// manifest gives it, for linux/amd64, with a manifest matching its digest. `make test` sets
// KILN_ARTIFACT_LOCK and KILN_ARTIFACT_STORE; without them the test skips.
func TestLockedArtifacts(t *testing.T) {
	lock, store, lockPath := lockedArtifacts(t)
	m, err := LoadFile(filepath.Join("..", "..", "..", "profiles", "artifacts", "local.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		e, ok := lock.Find(a.Name)
		if !ok {
			t.Errorf("%s: not in the lock %s", a.Name, lockPath)
			continue
		}
		if err := store.Verify(e); err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		if a.Build == nil {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			entries, err := ociarchive.Read(store.Path(e))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Fatalf("archive lists %d images, want 1", len(entries))
			}
			got := entries[0]
			if got.RefName != a.Build.Ref || got.Platform.OS != "linux" || got.Platform.Architecture != "amd64" {
				t.Fatalf("archive holds %s for %s/%s, want %s for linux/amd64", got.RefName, got.Platform.OS, got.Platform.Architecture, a.Build.Ref)
			}
			files := imageFiles(t, store.Path(e))
			for _, f := range a.Build.Files {
				if files[f.Path[1:]] != tar.TypeReg {
					t.Errorf("image lacks %s", f.Path)
				}
			}
			if a.Build.FromRootfs != nil {
				for _, b := range a.Build.FromRootfs.Binaries {
					if strings.ContainsAny(b, "*?[") {
						// A pattern (iptables' extensions): something in the image matches it.
						n := 0
						for f := range files {
							if ok, _ := path.Match(b[1:], f); ok {
								n++
							}
						}
						if n == 0 {
							t.Errorf("image has nothing matching %s from the rootfs", b)
						}
						continue
					}
					// A binary may be a symlink in the base (Debian's /usr/sbin/ip → /bin/ip);
					// its target comes along.
					if typ := files[b[1:]]; typ != tar.TypeReg && typ != tar.TypeSymlink {
						t.Errorf("image lacks %s from the rootfs", b)
					}
				}
				for l := range a.Build.FromRootfs.Symlinks {
					if files[l[1:]] != tar.TypeSymlink {
						t.Errorf("image lacks the symlink %s", l)
					}
				}
				if files["usr/lib/x86_64-linux-gnu/libc.so.6"] == 0 {
					t.Errorf("image lacks libc.so.6 for its rootfs binaries")
				}
			}
		})
	}
}

// lockedArtifacts opens the lock and store `make artifacts` made, as make test names them in
// KILN_ARTIFACT_LOCK and KILN_ARTIFACT_STORE; without them the test skips (or fails, under
// KILN_REQUIRE_ARTIFACTS).
func lockedArtifacts(t *testing.T) (*artifactstore.Lock, *artifactstore.Store, string) {
	t.Helper()
	lockPath, storePath := os.Getenv("KILN_ARTIFACT_LOCK"), os.Getenv("KILN_ARTIFACT_STORE")
	if lockPath == "" || storePath == "" {
		if os.Getenv("KILN_REQUIRE_ARTIFACTS") != "" {
			t.Fatal("KILN_REQUIRE_ARTIFACTS is set but KILN_ARTIFACT_LOCK or KILN_ARTIFACT_STORE is not")
		}
		t.Skip("KILN_ARTIFACT_LOCK and KILN_ARTIFACT_STORE are not set (make test sets them after make artifacts)")
	}
	lock, err := artifactstore.ReadLock(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := artifactstore.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	return lock, store, lockPath
}

// imageFiles unpacks an OCI archive's layout and lists the file types of its image's layers.
func imageFiles(t *testing.T, archive string) map[string]byte {
	t.Helper()
	dir := t.TempDir()
	if err := unpack(archive, dir); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]byte{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Clean(hdr.Name)] = hdr.Typeflag
		}
		rc.Close()
	}
	return files
}
