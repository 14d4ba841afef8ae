package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
	"github.com/kilnproject/kiln/internal/build/ociimage"
)

const testRef = "registry.k8s.io/pause:3.10.2"

// writeTestArchive builds a small image with layers compressed by c, as `kiln artifacts` does,
// and writes its OCI archive into dir.
func writeTestArchive(t *testing.T, dir string, c ociimage.Compression) string {
	t.Helper()
	img, err := ociimage.Build(ociimage.Spec{
		Ref:         testRef,
		Files:       []ociimage.File{{Path: "/pause", Mode: 0o755, Data: bytes.Repeat([]byte("pause "), 4096)}},
		Entrypoint:  []string{"/pause"},
		Compression: c,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "in-"+string(c)+".tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociarchive.Write(f, img, testRef); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// archiveContent is what the test compares of an archive.
type archiveContent struct {
	entry     ociarchive.Entry
	manifest  *v1.Manifest
	rawConfig []byte
	layer     []byte // the compressed blob
	tar       []byte // the layer uncompressed
}

func readArchive(t *testing.T, path string) archiveContent {
	t.Helper()
	entries, err := ociarchive.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%s: %d images, want 1", path, len(entries))
	}
	files, err := readLayout(path)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := v1.ParseManifest(bytes.NewReader(files[blobsDir+entries[0].ManifestDigest.Hex]))
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Layers) != 1 {
		t.Fatalf("%s: %d layers, want 1", path, len(manifest.Layers))
	}
	desc := manifest.Layers[0]
	layer := files[blobsDir+desc.Digest.Hex]
	c, err := ociimage.CompressionOf(desc.MediaType)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tar, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return archiveContent{
		entry:     entries[0],
		manifest:  manifest,
		rawConfig: files[blobsDir+manifest.Config.Digest.Hex],
		layer:     layer,
		tar:       tar,
	}
}

func TestRecompress(t *testing.T) {
	for _, tc := range []struct{ from, to ociimage.Compression }{
		{ociimage.Gzip, ociimage.Zstd},
		{ociimage.Zstd, ociimage.Gzip},
		{ociimage.Gzip, ociimage.Gzip},
		{ociimage.Zstd, ociimage.Zstd},
	} {
		t.Run(string(tc.from)+" to "+string(tc.to), func(t *testing.T) {
			dir := t.TempDir()
			src := writeTestArchive(t, dir, tc.from)
			dst := filepath.Join(dir, "out.tar")
			got, err := recompress(src, dst, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			in, out := readArchive(t, src), readArchive(t, dst)

			if out.entry.RefName != testRef || got.ref != testRef {
				t.Errorf("ref name %q (reported %q), want %q", out.entry.RefName, got.ref, testRef)
			}
			if out.entry.Platform.String() != "linux/amd64" {
				t.Errorf("platform %s, want linux/amd64", out.entry.Platform.String())
			}
			desc := out.manifest.Layers[0]
			if desc.MediaType != tc.to.LayerMediaType() {
				t.Errorf("layer media type %s, want %s", desc.MediaType, tc.to.LayerMediaType())
			}
			if sha256Of(out.layer) != desc.Digest || int64(len(out.layer)) != desc.Size {
				t.Errorf("layer blob: sha256 %s, %d bytes; the manifest says %s, %d bytes", sha256Of(out.layer), len(out.layer), desc.Digest, desc.Size)
			}
			if got.layerSize != desc.Size || got.unpackedSize != int64(len(in.tar)) {
				t.Errorf("reported sizes %d, %d; want %d, %d", got.layerSize, got.unpackedSize, desc.Size, len(in.tar))
			}
			if !bytes.Equal(out.tar, in.tar) {
				t.Error("the uncompressed layer differs from the original")
			}
			if !bytes.Equal(out.rawConfig, in.rawConfig) || out.manifest.Config.Digest != in.manifest.Config.Digest {
				t.Error("the config changed")
			}
			if tc.from == tc.to && !bytes.Equal(out.layer, in.layer) {
				t.Errorf("recompressing with %s changed the layer: the options differ from internal/ociimage's", tc.to)
			}
		})
	}
}
