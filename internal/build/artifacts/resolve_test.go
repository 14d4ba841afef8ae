package artifacts

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/build/artifactstore"
	"github.com/kilnproject/kiln/internal/build/elfdeps"
	"github.com/kilnproject/kiln/internal/build/ociarchive"
	"github.com/kilnproject/kiln/internal/common/linelog"
)

// hostRootfsTar writes a tarball holding /usr/bin/ls of this machine with the libraries it
// loads: a small stand-in for the Debian base rootfs.
func hostRootfsTar(t *testing.T) string {
	t.Helper()
	paths, err := elfdeps.Resolve("/", "/usr/bin/ls")
	if err != nil {
		t.Fatalf("resolve /usr/bin/ls: %v", err)
	}
	file := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			t.Fatal(err)
		}
		hdr.Name = strings.TrimPrefix(p, "/")
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			tw.Write(data)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return file
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type fixture struct {
	store    *artifactstore.Store
	manifest *Manifest
	requests atomic.Int32
}

// newFixture serves a "containerd" download over loopback HTTP (body served, sha256 declared)
// and writes a manifest with a local binary, a rootfs and two images built from them.
func newFixture(t *testing.T, served, declared []byte) *fixture {
	t.Helper()
	fx := &fixture{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fx.requests.Add(1)
		w.Write(served)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	bin := filepath.Join(dir, "kube-proxy")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho kube-proxy\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(manifestHead+`
- {name: kube-proxy, kind: binary, version: v1.36.3, source: %q}
- {name: containerd, kind: binary, version: v2.2.1, source: %q, sha256: %q}
- {name: rootfs, kind: rootfs, version: test, source: %q}
- name: image/kube-proxy
  kind: image
  version: v1.36.3
  build:
    ref: registry.k8s.io/kube-proxy:v1.36.3
    files: [{path: /usr/local/bin/kube-proxy, artifact: kube-proxy}]
    fromRootfs: {artifact: rootfs, binaries: [/usr/bin/ls], symlinks: {/usr/sbin/iptables: xtables-nft-multi}}
    entrypoint: [/usr/local/bin/kube-proxy]
- name: image/pause
  kind: image
  version: "3.10.2"
  build:
    ref: registry.k8s.io/pause:3.10.2
    files: [{path: /pause, artifact: containerd}]
`, bin, srv.URL+"/containerd", sha(declared), hostRootfsTar(t))
	m, err := Parse([]byte(doc), lookupFrom(nil))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	fx.manifest = m
	if fx.store, err = artifactstore.Open(filepath.Join(dir, "store")); err != nil {
		t.Fatal(err)
	}
	return fx
}

func TestResolveBuildsAndReusesImages(t *testing.T) {
	body := []byte("containerd binary")
	fx := newFixture(t, body, body)
	var logged strings.Builder
	r := &Resolver{Store: fx.store, Created: time.Unix(1700000000, 0), Log: linelog.New(&logged)}
	lock, err := r.Resolve(context.Background(), fx.manifest)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(lock.Artifacts) != 5 {
		t.Fatalf("lock has %d artifacts, want 5", len(lock.Artifacts))
	}
	for _, ref := range []struct{ name, ref string }{
		{"image/kube-proxy", "registry.k8s.io/kube-proxy:v1.36.3"},
		{"image/pause", "registry.k8s.io/pause:3.10.2"},
	} {
		e, ok := lock.Find(ref.name)
		if !ok || e.Origin != artifactstore.OriginBuild || e.Kind != KindImage || e.Inputs == "" {
			t.Fatalf("%s: entry %+v", ref.name, e)
		}
		entries, err := ociarchive.Read(fx.store.Path(e))
		if err != nil {
			t.Fatalf("%s: read archive: %v", ref.name, err)
		}
		if len(entries) != 1 || entries[0].RefName != ref.ref || entries[0].Platform.OS != "linux" || entries[0].Platform.Architecture != "amd64" {
			t.Fatalf("%s: archive entries %+v, want one %s linux/amd64", ref.name, entries, ref.ref)
		}
	}

	kp, _ := lock.Find("image/kube-proxy")
	files := imageFiles(t, fx.store.Path(kp))
	for p, typ := range map[string]byte{"usr/local/bin/kube-proxy": tar.TypeReg, "usr/bin/ls": tar.TypeReg, "usr/sbin/iptables": tar.TypeSymlink, "usr/lib/x86_64-linux-gnu/libc.so.6": tar.TypeReg} {
		if files[p] != typ {
			t.Errorf("kube-proxy image: %s has type %q, want %q", p, files[p], typ)
		}
	}

	// A second run with the first lock fetches nothing over the network and builds nothing.
	if !strings.Contains(logged.String(), "  built (") {
		t.Errorf("the first run logged no build:\n%s", logged.String())
	}
	r2 := &Resolver{Store: fx.store, Created: r.Created, Previous: lock}
	logged.Reset()
	r2.Log = r.Log
	lock2, err := r2.Resolve(context.Background(), fx.manifest)
	if err != nil {
		t.Fatalf("second Resolve: %v", err)
	}
	if n := fx.requests.Load(); n != 1 {
		t.Errorf("the download was requested %d times, want 1", n)
	}
	for _, l := range strings.Split(logged.String(), "\n") {
		if strings.Contains(l, "  built (") {
			t.Errorf("second run rebuilt: %s", l)
		}
	}
	for _, e := range lock.Artifacts {
		e2, _ := lock2.Find(e.Name)
		if e2.SHA256 != e.SHA256 {
			t.Errorf("%s: sha256 changed between runs: %s → %s", e.Name, e.SHA256, e2.SHA256)
		}
	}

	// A fresh store (no previous lock) builds the same bytes: the images are reproducible.
	fresh, _ := artifactstore.Open(t.TempDir())
	lock3, err := (&Resolver{Store: fresh, Created: r.Created}).Resolve(context.Background(), fx.manifest)
	if err != nil {
		t.Fatalf("Resolve into a fresh store: %v", err)
	}
	for _, n := range []string{"image/kube-proxy", "image/pause"} {
		a, _ := lock.Find(n)
		b, _ := lock3.Find(n)
		if a.SHA256 != b.SHA256 {
			t.Errorf("%s is not reproducible: %s vs %s", n, a.SHA256, b.SHA256)
		}
	}
}

func TestResolveRefusesCorruptDownload(t *testing.T) {
	fx := newFixture(t, []byte("tampered containerd"), []byte("containerd binary"))
	_, err := (&Resolver{Store: fx.store}).Resolve(context.Background(), fx.manifest)
	if !errors.Is(err, artifactstore.ErrHashMismatch) {
		t.Fatalf("Resolve error = %v, want ErrHashMismatch", err)
	}
	for _, want := range []string{"containerd", sha([]byte("containerd binary")), sha([]byte("tampered containerd"))} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(fx.store.Root(), "sha256", sha([]byte("tampered containerd")))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the tampered download is in the store (stat: %v)", err)
	}
	tmp, _ := os.ReadDir(fx.store.TempDir())
	if len(tmp) != 0 {
		t.Errorf("temporary files left in the store: %v", tmp)
	}
}
