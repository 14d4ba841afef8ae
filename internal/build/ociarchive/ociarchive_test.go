package ociarchive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const testRef = "registry.k8s.io/kube-apiserver:v1.36.3"

// testImage returns a random OCI image for linux/amd64 with two layers.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func writeArchive(t *testing.T, img v1.Image, ref string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, img, ref); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestWriteIsDeterministicAndReadsBack(t *testing.T) {
	img := testImage(t)
	first := writeArchive(t, img, testRef)
	second := writeArchive(t, img, testRef)
	if !bytes.Equal(first, second) {
		t.Fatal("two archives of the same image differ")
	}

	path := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(path, first, 0o644); err != nil {
		t.Fatal(err)
	}
	entries, err := Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.RefName != testRef || e.ManifestDigest != digest || e.MediaType != types.OCIManifestSchema1 {
		t.Errorf("entry = %+v, want ref %s digest %s", e, testRef, digest)
	}
	if e.Platform.OS != "linux" || e.Platform.Architecture != "amd64" {
		t.Errorf("platform = %s, want linux/amd64", e.Platform)
	}
}

// TestArchiveShape checks what containerd's importer relies on and what makes the archive
// reproducible: entry order, modes, owners, mtimes, the index descriptor and its annotation.
func TestArchiveShape(t *testing.T) {
	img := testImage(t)
	archive := writeArchive(t, img, testRef)

	var names []string
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		wantMode := int64(fileMode)
		if hdr.Typeflag == tar.TypeDir {
			wantMode = dirMode
		}
		if hdr.Mode != wantMode || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" || !hdr.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mode %o uid %d gid %d owner %q:%q mtime %s", hdr.Name, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname, hdr.ModTime)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = data
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries are not sorted: %v", names)
	}
	// manifest + config + 2 layers
	if want := 2 + 4 + 2; len(names) != want {
		t.Errorf("got %d entries, want %d: %v", len(names), want, names)
	}
	if got := string(files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", got)
	}

	var index v1.IndexManifest
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if index.SchemaVersion != 2 || index.MediaType != types.OCIImageIndex || len(index.Manifests) != 1 {
		t.Fatalf("index.json = %s", files["index.json"])
	}
	d := index.Manifests[0]
	if d.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("descriptor media type = %s", d.MediaType)
	}
	if got := d.Annotations["org.opencontainers.image.ref.name"]; got != testRef {
		t.Errorf("ref.name annotation = %q, want %q", got, testRef)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["blobs/sha256/"+d.Digest.Hex], raw) || d.Size != int64(len(raw)) {
		t.Error("the manifest blob is not the image's manifest byte for byte")
	}
	if d.Platform == nil || d.Platform.String() != "linux/amd64" {
		t.Errorf("descriptor platform = %v", d.Platform)
	}
}

func TestWriteNeedsRefName(t *testing.T) {
	if err := Write(io.Discard, testImage(t), ""); err == nil {
		t.Fatal("Write without a ref name succeeded")
	}
}

func TestReadRejects(t *testing.T) {
	good := writeArchive(t, testImage(t), testRef)
	for _, tc := range []struct {
		name   string
		mutate func(name string, data []byte) (string, []byte)
	}{
		{"no oci-layout", func(n string, d []byte) (string, []byte) {
			if n == "oci-layout" {
				return "", nil
			}
			return n, d
		}},
		{"wrong layout version", func(n string, d []byte) (string, []byte) {
			if n == "oci-layout" {
				return n, []byte(`{"imageLayoutVersion":"2.0.0"}`)
			}
			return n, d
		}},
		{"no index.json", func(n string, d []byte) (string, []byte) {
			if n == "index.json" {
				return "", nil
			}
			return n, d
		}},
		{"corrupt blob", func(n string, d []byte) (string, []byte) {
			if n != "index.json" && n != "oci-layout" && len(d) > 0 {
				d = append([]byte(nil), d...)
				d[0] ^= 0xff
			}
			return n, d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.tar")
			if err := os.WriteFile(path, rewrite(t, good, tc.mutate), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Read = %v, want ErrInvalid", err)
			}
		})
	}
}

// rewrite copies a tar, passing each regular file through f; an empty name drops the entry.
func rewrite(t *testing.T, archive []byte, f func(name string, data []byte) (string, []byte)) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if hdr.Name, data = f(hdr.Name, data); hdr.Name == "" {
				continue
			}
			hdr.Size = int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
