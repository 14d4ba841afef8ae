package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layer is a compressed layer held in memory, with both digests computed while writing.
type layer struct {
	compression Compression
	compressed  []byte
	digest      v1.Hash
	diffID      v1.Hash
}

var _ v1.Layer = (*layer)(nil)

func (l *layer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *layer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *layer) Size() (int64, error)     { return int64(len(l.compressed)), nil }
func (l *layer) MediaType() (types.MediaType, error) {
	return l.compression.LayerMediaType(), nil
}

func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}

func (l *layer) Uncompressed() (io.ReadCloser, error) {
	r, err := l.compression.NewReader(bytes.NewReader(l.compressed))
	if err != nil {
		return nil, fmt.Errorf("decompress layer %s: %w", l.digest, err)
	}
	return r, nil
}

// newLayer writes files (sorted, parents included, see Spec.layerFiles) as a tar layer with
// every mtime set to mtime, compressed by c.
func newLayer(files []File, mtime time.Time, c Compression) (*layer, error) {
	var buf bytes.Buffer
	compressedHash, diffIDHash := sha256.New(), sha256.New()
	zw, err := c.NewWriter(io.MultiWriter(&buf, compressedHash))
	if err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	tw := tar.NewWriter(io.MultiWriter(zw, diffIDHash))
	for _, f := range files {
		if err := writeEntry(tw, f, mtime); err != nil {
			return nil, fmt.Errorf("write layer: %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	return &layer{compression: c, compressed: buf.Bytes(), digest: sha256Hash(compressedHash), diffID: sha256Hash(diffIDHash)}, nil
}

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// writeEntry writes one file. The header leaves Format unset, so the tar writer uses USTAR
// where it can and PAX only for long names, and never writes access or change times.
func writeEntry(tw *tar.Writer, f File, mtime time.Time) error {
	hdr := &tar.Header{
		Name:    strings.TrimPrefix(f.Path, "/"),
		Mode:    tarMode(f.Mode),
		ModTime: mtime,
	}
	switch {
	case f.Mode.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		return tw.WriteHeader(hdr)
	case f.Symlink != "":
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = f.Symlink
		hdr.Mode = 0o777
		return tw.WriteHeader(hdr)
	case f.Source != "":
		return writeSourceFile(tw, hdr, f.Source)
	default:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(f.Data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(f.Data)
		return err
	}
}

func writeSourceFile(tw *tar.Writer, hdr *tar.Header, source string) error {
	in, err := os.Open(source)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("source %s is not a regular file", source)
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, in, hdr.Size); err != nil {
		return fmt.Errorf("copy %s: %w", source, err)
	}
	return nil
}

// tarMode turns a File's Mode into tar's mode bits, applying the defaults for zero permissions.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m & 0o7777)
	if m.Perm() == 0 {
		mode |= 0o644
		if m.IsDir() {
			mode |= 0o755
		}
	}
	for flag, bit := range map[fs.FileMode]int64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
		if m&flag != 0 {
			mode |= bit
		}
	}
	return mode
}
