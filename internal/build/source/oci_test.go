package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
)

// testRegistry serves an in-process registry on 127.0.0.1 and returns its host:port.
// rewrite, when set, may change a request's path before the registry sees it.
func testRegistry(t *testing.T, rewrite func(path string) string) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rewrite != nil {
			r.URL.Path = rewrite(r.URL.Path)
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// platformImage returns a random image whose config names platform.
func platformImage(t *testing.T, platform string) v1.Image {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Architecture
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func push(t *testing.T, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fetchArchive fetches spec and reads the archive back.
func fetchArchive(t *testing.T, spec string, opts ...Option) ([]byte, []ociarchive.Entry, error) {
	t.Helper()
	src, err := Parse(spec, "", opts...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.Fetch(context.Background(), &buf); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, err := ociarchive.Read(path)
	if err != nil {
		t.Fatalf("read back the archive of %s: %v", spec, err)
	}
	return buf.Bytes(), entries, nil
}

func TestOCIFetch(t *testing.T) {
	host := testRegistry(t, nil)
	img := platformImage(t, "linux/amd64")
	digest := push(t, host+"/kube-apiserver:v1.36.3", img)

	for _, tc := range []struct{ name, ref, refName string }{
		{"by tag", host + "/kube-apiserver:v1.36.3", host + "/kube-apiserver:v1.36.3"},
		{"by tag and digest", host + "/kube-apiserver:v1.36.3@" + digest.String(), host + "/kube-apiserver:v1.36.3"},
		{"by digest", host + "/kube-apiserver@" + digest.String(), host + "/kube-apiserver@" + digest.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, entries, err := fetchArchive(t, "oci://"+tc.ref)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(entries) != 1 || entries[0].RefName != tc.refName || entries[0].ManifestDigest != digest {
				t.Errorf("archive lists %+v, want %s at %s", entries, tc.refName, digest)
			}
			second, _, err := fetchArchive(t, "oci://"+tc.ref)
			if err != nil {
				t.Fatalf("second Fetch: %v", err)
			}
			if !bytes.Equal(first, second) {
				t.Error("two fetches of the same image gave different archives")
			}
		})
	}
}

func TestOCIFetchSelectsPlatform(t *testing.T) {
	host := testRegistry(t, nil)
	amd64, arm64 := platformImage(t, "linux/amd64"), platformImage(t, "linux/arm64")
	index := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	ref, err := name.ParseReference(host + "/pause:3.10")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, index); err != nil {
		t.Fatal(err)
	}
	indexDigest, err := index.Digest()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		spec     string
		opts     []Option
		want     v1.Image
		platform string
	}{
		{"default linux/amd64", "oci://" + ref.String(), nil, amd64, "linux/amd64"},
		{"linux/arm64", "oci://" + ref.String(), []Option{WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"})}, arm64, "linux/arm64"},
		{"index pinned by digest", "oci://" + ref.String() + "@" + indexDigest.String(), nil, amd64, "linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, entries, err := fetchArchive(t, tc.spec, tc.opts...)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want, err := tc.want.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].ManifestDigest != want || entries[0].Platform.String() != tc.platform {
				t.Errorf("archive lists %+v, want %s for %s", entries, want, tc.platform)
			}
		})
	}
}

func TestOCIFetchRefuses(t *testing.T) {
	// The lying registry answers a request for the manifest sha256:<testSHA> with the tag's.
	host := testRegistry(t, func(path string) string {
		return strings.Replace(path, "/manifests/sha256:"+testSHA, "/manifests/v1", 1)
	})
	push(t, host+"/app:v1", platformImage(t, "linux/amd64"))
	push(t, host+"/arm:v1", platformImage(t, "linux/arm64"))
	other := push(t, host+"/other:v1", platformImage(t, "linux/amd64"))

	for _, tc := range []struct {
		name, spec, mention string
		is                  error
	}{
		{"digest the registry does not have", "oci://" + host + "/app:v1@" + other.String(), other.String(), nil},
		{"registry serves other content for the digest", "oci://" + host + "/app@sha256:" + testSHA, "sha256:" + testSHA, ErrDigestMismatch},
		{"image for another platform", "oci://" + host + "/arm:v1", "linux/arm64", nil},
		{"missing tag", "oci://" + host + "/app:v2", host + "/app:v2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Parse(tc.spec, "")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			err = src.Fetch(context.Background(), &buf)
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if buf.Len() != 0 {
				t.Errorf("Fetch wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestOCIFetchOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	ref, err := name.ParseReference(host + "/etcd:3.6.16")
	if err != nil {
		t.Fatal(err)
	}
	img := platformImage(t, "linux/amd64")
	if err := remote.Write(ref, img, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	_, entries, err := fetchArchive(t, "oci://"+ref.String(), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want, _ := img.Digest(); len(entries) != 1 || entries[0].ManifestDigest != want {
		t.Errorf("archive lists %+v, want %s", entries, want)
	}
}

func TestOCIFetchCancelled(t *testing.T) {
	host := testRegistry(t, nil)
	push(t, host+"/app:v1", platformImage(t, "linux/amd64"))
	src, err := Parse("oci://"+host+"/app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Fetch(ctx, io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
}
