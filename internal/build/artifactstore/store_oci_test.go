package artifactstore

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
	"github.com/kilnproject/kiln/internal/build/source"
)

// TestPutImage stores an image pinned by digest (no sha256 needed), then finds it again by the
// archive's sha256 after the registry is gone.
func TestPutImage(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/pause:3.10")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.Parse("oci://"+ref.String()+"@"+digest.String(), "")
	if err != nil {
		t.Fatal(err)
	}

	s := openStore(t)
	e, err := s.Put(context.Background(), "pause-image", src, "")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	entries, err := ociarchive.Read(s.Path(e))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ManifestDigest != digest || entries[0].RefName != ref.String() {
		t.Errorf("stored archive lists %+v, want %s at %s", entries, ref, digest)
	}

	srv.Close()
	again, err := s.Put(context.Background(), "pause-image", src, e.SHA256)
	if err != nil {
		t.Fatalf("Put with the registry gone: %v", err)
	}
	if again != e {
		t.Errorf("second Put = %+v, want %+v", again, e)
	}
}
