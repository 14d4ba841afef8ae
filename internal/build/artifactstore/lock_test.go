package artifactstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnproject/kiln/internal/build/source"
)

func testLock() *Lock {
	return &Lock{Artifacts: []Entry{
		{Name: "pause-image", Version: "3.10", Origin: source.KindOCI, Source: "oci://registry.k8s.io/pause:3.10", SHA256: sha256hex("pause"), Size: 300000},
		{Name: "containerd", Version: "v2.2.1", Origin: source.KindFile, Source: "/work/out/containerd", SHA256: sha256hex("containerd"), Size: 40000000},
		{Name: "cni-plugins", Version: "v1.7.1", Origin: source.KindHTTP, Source: "https://github.com/containernetworking/plugins/releases/download/v1.7.1/cni-plugins-linux-amd64-v1.7.1.tgz", SHA256: sha256hex("cni"), Size: 50000000},
	}}
}

func TestLockRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiln.lock")
	l := testLock()
	if err := l.WriteFile(path); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if l.Artifacts[0].Name != "pause-image" {
		t.Error("WriteFile reordered the caller's Lock")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# ") || !strings.Contains(text, "apiVersion: kiln.dev/v1alpha1\n") || !strings.Contains(text, "kind: ArtifactLock\n") {
		t.Errorf("lock file lacks its header or type:\n%s", text)
	}
	if c, n, p := strings.Index(text, "name: cni-plugins"), strings.Index(text, "name: containerd"), strings.Index(text, "name: pause-image"); !(c < n && n < p) {
		t.Errorf("artifacts are not sorted by name:\n%s", text)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("lock file mode: %v, %v", info, err)
	}

	got, err := ReadLock(path)
	if err != nil {
		t.Fatalf("ReadLock: %v", err)
	}
	want, _ := got.Find("containerd")
	if want != testLock().Artifacts[1] {
		t.Errorf("Find(containerd) = %+v", want)
	}
	if _, ok := got.Find("etcd"); ok {
		t.Error("Find(etcd) found something")
	}
	if diff := cmp.Diff([]string{"cni-plugins", "containerd", "pause-image"}, names(got)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func names(l *Lock) []string {
	var out []string
	for _, e := range l.Artifacts {
		out = append(out, e.Name)
	}
	return out
}

func TestLockSet(t *testing.T) {
	l := testLock()
	e := l.Artifacts[1]
	e.Version = "v2.2.2"
	l.Set(e)
	l.Set(Entry{Name: "etcd"})
	if got, _ := l.Find("containerd"); got.Version != "v2.2.2" || len(l.Artifacts) != 4 {
		t.Errorf("after Set: %+v", l.Artifacts)
	}
}

const validEntry = `
- name: kubelet
  origin: http
  source: https://dl.k8s.io/v1.36.3/bin/linux/amd64/kubelet
  sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  size: 5`

func TestReadLockRejects(t *testing.T) {
	const head = "apiVersion: kiln.dev/v1alpha1\nkind: ArtifactLock\nartifacts:"
	for _, tc := range []struct {
		name, text, mention string
	}{
		{"unknown entry field", head + validEntry + "\n  colour: blue\n", `"artifacts[0].colour"`},
		{"unknown top-level field", head + validEntry + "\nextra: 1\n", `"extra"`},
		{"duplicate field", head + validEntry + "\n  size: 6\n", `"size"`},
		{"wrong kind", "apiVersion: kiln.dev/v1alpha1\nkind: Profile\nartifacts:" + validEntry, `"Profile"`},
		{"wrong apiVersion", "apiVersion: kiln.dev/v2\nkind: ArtifactLock\nartifacts:" + validEntry, `"kiln.dev/v2"`},
		{"duplicate name", head + validEntry + validEntry, "twice"},
		{"bad sha256", head + strings.Replace(validEntry, "0123456789abcdef0123", "0123", 1), "sha256"},
		{"unknown origin", head + strings.Replace(validEntry, "origin: http", "origin: ftp", 1), `"ftp"`},
		{"no source", head + strings.Replace(validEntry, "source:", "# source:", 1), "no source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiln.lock")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadLock(path)
			if !errors.Is(err, ErrInvalidLock) {
				t.Fatalf("ReadLock = %v, want ErrInvalidLock", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not mention %s and the path", err, tc.mention)
			}
		})
	}
}

func TestWriteLockRejectsInvalid(t *testing.T) {
	l := testLock()
	l.Artifacts = append(l.Artifacts, l.Artifacts[0])
	path := filepath.Join(t.TempDir(), "kiln.lock")
	if err := l.WriteFile(path); !errors.Is(err, ErrInvalidLock) {
		t.Fatalf("WriteFile = %v, want ErrInvalidLock", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an invalid lock was written: %v", err)
	}
}
