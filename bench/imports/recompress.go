package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
	"github.com/kilnproject/kiln/internal/build/ociimage"
)

// blobsDir is where an OCI image layout keeps its blobs.
const blobsDir = "blobs/sha256/"

// recompressed describes an archive written by recompress.
type recompressed struct {
	ref          string // the image's name, from the org.opencontainers.image.ref.name annotation
	layerSize    int64  // compressed bytes of its layers
	unpackedSize int64  // bytes of its layers' tars
}

// recompress writes the one-image OCI archive at src to dst with every layer compressed by
// to. The config (whose diff_ids are of the uncompressed tars) and the image's name are kept;
// the manifest gets the new layer descriptors, so the image gets a new digest.
func recompress(src, dst string, to ociimage.Compression) (recompressed, error) {
	r, err := recompressArchive(src, dst, to)
	if err != nil {
		return recompressed{}, fmt.Errorf("recompress %s with %s: %w", src, to, err)
	}
	return r, nil
}

func recompressArchive(src, dst string, to ociimage.Compression) (recompressed, error) {
	entries, err := ociarchive.Read(src) // checks the layout and the manifest's and config's digests
	if err != nil {
		return recompressed{}, err
	}
	if len(entries) != 1 {
		return recompressed{}, fmt.Errorf("the archive holds %d images, want 1", len(entries))
	}
	files, err := readLayout(src)
	if err != nil {
		return recompressed{}, err
	}
	rawManifest := files[blobsDir+entries[0].ManifestDigest.Hex]
	manifest, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return recompressed{}, fmt.Errorf("manifest %s: %w", entries[0].ManifestDigest, err)
	}

	img := &archiveImage{
		mediaType: entries[0].MediaType,
		rawConfig: files[blobsDir+manifest.Config.Digest.Hex],
		layers:    map[v1.Hash]layerBlob{},
	}
	out := recompressed{ref: entries[0].RefName}
	for i, desc := range manifest.Layers {
		data, ok := files[blobsDir+desc.Digest.Hex]
		if !ok {
			return recompressed{}, fmt.Errorf("layer %s is not in the archive", desc.Digest)
		}
		if got := sha256Of(data); got != desc.Digest {
			return recompressed{}, fmt.Errorf("layer %s hashes to %s", desc.Digest, got)
		}
		from, err := ociimage.CompressionOf(desc.MediaType)
		if err != nil {
			return recompressed{}, fmt.Errorf("layer %s: %w", desc.Digest, err)
		}
		layer, unpacked, err := convertLayer(data, from, to)
		if err != nil {
			return recompressed{}, fmt.Errorf("layer %s: %w", desc.Digest, err)
		}
		img.layers[layer.digest] = layer
		manifest.Layers[i].MediaType, manifest.Layers[i].Digest, manifest.Layers[i].Size = layer.mediaType, layer.digest, int64(len(layer.data))
		out.layerSize += int64(len(layer.data))
		out.unpackedSize += unpacked
	}
	if img.rawManifest, err = json.Marshal(manifest); err != nil {
		return recompressed{}, fmt.Errorf("render the manifest: %w", err)
	}
	return out, writeArchive(dst, img, out.ref)
}

// readLayout returns the regular files of an OCI archive by cleaned name, layers included.
func readLayout(file string) (map[string][]byte, error) {
	return ociarchive.ReadFiles(file, func(string) bool { return true }, math.MaxInt64)
}

// writeArchive writes img as kiln writes image archives (ociarchive.Write), named ref.
func writeArchive(dst string, img *archiveImage, ref string) error {
	image, err := partial.CompressedToImage(img)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := ociarchive.Write(f, image, ref); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// convertLayer decompresses a layer compressed by from and compresses its tar by to. It
// returns the new layer and the size of the tar.
func convertLayer(data []byte, from, to ociimage.Compression) (layerBlob, int64, error) {
	tarStream, err := from.NewReader(bytes.NewReader(data))
	if err != nil {
		return layerBlob{}, 0, err
	}
	defer tarStream.Close()
	var buf bytes.Buffer
	w, err := to.NewWriter(&buf)
	if err != nil {
		return layerBlob{}, 0, err
	}
	n, err := io.Copy(w, tarStream)
	if err != nil {
		return layerBlob{}, 0, fmt.Errorf("decompress %s: %w", from, err)
	}
	if err := w.Close(); err != nil {
		return layerBlob{}, 0, fmt.Errorf("compress %s: %w", to, err)
	}
	return layerBlob{data: buf.Bytes(), digest: sha256Of(buf.Bytes()), mediaType: to.LayerMediaType()}, n, nil
}

func sha256Of(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// archiveImage is an image held as its blobs, for partial.CompressedToImage.
type archiveImage struct {
	mediaType   types.MediaType
	rawManifest []byte
	rawConfig   []byte
	layers      map[v1.Hash]layerBlob
}

func (i *archiveImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *archiveImage) RawManifest() ([]byte, error)        { return i.rawManifest, nil }
func (i *archiveImage) RawConfigFile() ([]byte, error)      { return i.rawConfig, nil }

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	l, ok := i.layers[h]
	if !ok {
		return nil, fmt.Errorf("no layer %s", h)
	}
	return l, nil
}

// layerBlob is one compressed layer in memory.
type layerBlob struct {
	data      []byte
	digest    v1.Hash
	mediaType types.MediaType
}

func (l layerBlob) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l layerBlob) Size() (int64, error)                { return int64(len(l.data)), nil }
func (l layerBlob) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l layerBlob) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.data)), nil
}
