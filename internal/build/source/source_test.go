package source

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testSHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec, sha string
		kind      Kind
		str       string
	}{
		{"file:///opt/kiln/kubelet", "", KindFile, "/opt/kiln/kubelet"},
		{"file://localhost/opt/kiln/kubelet", "", KindFile, "/opt/kiln/kubelet"},
		{"/opt/kiln/kubelet", testSHA, KindFile, "/opt/kiln/kubelet"},
		{"_output/bin/./kubelet", "", KindFile, "_output/bin/kubelet"},
		{"https://dl.k8s.io/v1.36.3/bin/linux/amd64/kubelet", testSHA, KindHTTP, "https://dl.k8s.io/v1.36.3/bin/linux/amd64/kubelet"},
		{"http://127.0.0.1:8080/cni.tgz", testSHA, KindHTTP, "http://127.0.0.1:8080/cni.tgz"},
		{"oci://registry.k8s.io/kube-apiserver:v1.36.3", "", KindOCI, "oci://registry.k8s.io/kube-apiserver:v1.36.3"},
		{"oci://registry.k8s.io/pause@sha256:" + testSHA, "", KindOCI, "oci://registry.k8s.io/pause@sha256:" + testSHA},
		{"oci://127.0.0.1:5000/pause:3.10@sha256:" + testSHA, testSHA, KindOCI, "oci://127.0.0.1:5000/pause:3.10@sha256:" + testSHA},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			src, err := Parse(tc.spec, tc.sha)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if src.Kind() != tc.kind || src.String() != tc.str {
				t.Errorf("got %s %q, want %s %q", src.Kind(), src.String(), tc.kind, tc.str)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, spec, sha string
		mention         string // the error must contain it
	}{
		{"empty", "", "", "empty"},
		{"URL without sha256", "https://dl.k8s.io/kubelet", "", "https://dl.k8s.io/kubelet"},
		{"malformed sha256", "https://dl.k8s.io/kubelet", "abc", `"abc"`},
		{"uppercase sha256", "/opt/kubelet", strings.ToUpper(testSHA), "sha256"},
		{"unknown scheme", "ftp://example.com/x", testSHA, `"ftp"`},
		{"file URL with host", "file://example.com/x", "", "file://example.com/x"},
		{"relative file URL", "file://", "", "file://"},
		{"URL without host", "https:///x", testSHA, "no host"},
		{"image without tag or digest", "oci://registry.k8s.io/pause", "", "tag or a digest"},
		{"image without registry", "oci://pause:3.10", "", "oci://pause:3.10"},
		{"image with bad tag", "oci://registry.k8s.io/pause:", "", "oci://registry.k8s.io/pause:"},
		{"image with sha512 digest", "oci://registry.k8s.io/pause@sha512:abc", "", "sha256"},
		{"image with short digest", "oci://registry.k8s.io/pause@sha256:abc", "", "oci://registry.k8s.io/pause@sha256:abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.spec, tc.sha)
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Parse(%q, %q) = %v, want ErrInvalidSpec", tc.spec, tc.sha, err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestNeedsSHA256(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want bool
	}{
		{"/opt/kubelet", false},
		{"https://dl.k8s.io/kubelet", true},
		{"oci://registry.k8s.io/pause:3.10", true},
		{"oci://registry.k8s.io/pause:3.10@sha256:" + testSHA, false},
	} {
		src, err := Parse(tc.spec, testSHA)
		if err != nil {
			t.Fatal(err)
		}
		if got := NeedsSHA256(src); got != tc.want {
			t.Errorf("NeedsSHA256(%s) = %v, want %v", tc.spec, got, tc.want)
		}
	}
}

func TestOCIRefName(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"oci://registry.k8s.io/kube-apiserver:v1.36.3", "registry.k8s.io/kube-apiserver:v1.36.3"},
		{"oci://registry.k8s.io/kube-apiserver:v1.36.3@sha256:" + testSHA, "registry.k8s.io/kube-apiserver:v1.36.3"},
		{"oci://registry.k8s.io/pause@sha256:" + testSHA, "registry.k8s.io/pause@sha256:" + testSHA},
		{"oci://127.0.0.1:5000/pause:3.10", "127.0.0.1:5000/pause:3.10"},
		{"oci://index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
	} {
		src, err := Parse(tc.spec, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := src.(*OCI).RefName(); got != tc.want {
			t.Errorf("RefName(%s) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestFileFetch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kubelet")
	want := []byte("kubelet binary")
	if err := os.WriteFile(path, want, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{path, "file://" + path} {
		src, err := Parse(spec, "")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := src.Fetch(context.Background(), &got); err != nil {
			t.Fatalf("Fetch(%s): %v", spec, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("Fetch(%s) = %q, want %q", spec, got.Bytes(), want)
		}
	}
}

func TestFileFetchErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-kubelet")
	for _, tc := range []struct {
		name, path string
		is         error
	}{
		{"missing file", missing, fs.ErrNotExist},
		{"directory", dir, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Parse(tc.path, "")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err = src.Fetch(context.Background(), &buf)
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name %s", err, tc.path)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}

func TestFileFetchCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &File{Path: path}
	if err := src.Fetch(ctx, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
}
