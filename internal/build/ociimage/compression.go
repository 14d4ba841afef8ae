package ociimage

import (
	"compress/gzip"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// Compression is a layer's compression.
type Compression string

const (
	// Zstd is the default (OCI's tar+zstd, which containerd unpacks natively): a node's first
	// boot spent about half of its image import decompressing gzip, and zstd decompresses
	// several times faster at a smaller size (see BENCHMARKS.md).
	Zstd Compression = "zstd"
	// Gzip is for registries and tools that cannot read zstd layers.
	Gzip Compression = "gzip"
)

// One zstd encoder goroutine at a fixed level makes the output depend on the input and the
// library version only; compress/gzip is deterministic at every level for a given Go release.
var zstdOptions = []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1)}

const gzipLevel = gzip.DefaultCompression

// CompressionOf is the compression of a layer of media type mt.
func CompressionOf(mt types.MediaType) (Compression, error) {
	switch mt {
	case types.OCILayer, types.DockerLayer:
		return Gzip, nil
	case types.OCILayerZStd:
		return Zstd, nil
	}
	return "", fmt.Errorf("layer media type %q is neither tar+gzip nor tar+zstd", mt)
}

// LayerMediaType is the OCI media type of a layer compressed by c.
func (c Compression) LayerMediaType() types.MediaType {
	if c == Gzip {
		return types.OCILayer
	}
	return types.OCILayerZStd
}

// NewWriter writes to w compressed by c, as kiln's image layers are. A gzip stream has the
// zero header: no name, no comment, mtime 0.
func (c Compression) NewWriter(w io.Writer) (io.WriteCloser, error) {
	if c == Gzip {
		return gzip.NewWriterLevel(w, gzipLevel)
	}
	return zstd.NewWriter(w, zstdOptions...)
}

// NewReader reads r decompressed by c.
func (c Compression) NewReader(r io.Reader) (io.ReadCloser, error) {
	if c == Gzip {
		return gzip.NewReader(r)
	}
	zr, err := zstd.NewReader(r)
	if err != nil {
		return nil, err
	}
	return zr.IOReadCloser(), nil
}
