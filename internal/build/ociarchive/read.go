package ociarchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrInvalid marks a file that is not a well-formed OCI archive.
var ErrInvalid = errors.New("invalid OCI archive")

// maxMetadataSize bounds the index, manifests and configs Read loads into memory.
const maxMetadataSize = 8 << 20

// Entry describes one image an OCI archive's index.json lists.
type Entry struct {
	// RefName is the org.opencontainers.image.ref.name annotation, "" when absent.
	RefName string
	// ManifestDigest is the digest of the image manifest.
	ManifestDigest v1.Hash
	// MediaType is the manifest's media type.
	MediaType types.MediaType
	// Platform is the OS, architecture and variant from the image config.
	Platform v1.Platform
}

// Read opens the OCI archive at path, checks its oci-layout, and returns one Entry per manifest
// in index.json, in index order. The manifests and configs it reads are checked against their
// digests; layers are not read.
func Read(path string) ([]Entry, error) {
	entries, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("read OCI archive %s: %w", path, err)
	}
	return entries, nil
}

func read(path string) ([]Entry, error) {
	top, err := readEntries(path, map[string]bool{layoutFile: true, indexFile: true})
	if err != nil {
		return nil, err
	}
	if top[layoutFile] == nil {
		return nil, fmt.Errorf("%w: no %s", ErrInvalid, layoutFile)
	}
	var layout struct {
		ImageLayoutVersion string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(top[layoutFile], &layout); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, layoutFile, err)
	}
	if layout.ImageLayoutVersion != LayoutVersion {
		return nil, fmt.Errorf("%w: %s: imageLayoutVersion %q, want %q", ErrInvalid, layoutFile, layout.ImageLayoutVersion, LayoutVersion)
	}
	if top[indexFile] == nil {
		return nil, fmt.Errorf("%w: no %s", ErrInvalid, indexFile)
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(top[indexFile], &index); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, indexFile, err)
	}
	for _, d := range index.Manifests {
		if !d.MediaType.IsImage() {
			return nil, fmt.Errorf("%w: %s lists %s of media type %q; only image manifests are supported", ErrInvalid, indexFile, d.Digest, d.MediaType)
		}
	}

	manifests, err := readBlobs(path, index.Manifests)
	if err != nil {
		return nil, err
	}
	var configs []v1.Descriptor
	parsed := make([]*v1.Manifest, len(index.Manifests))
	for i, d := range index.Manifests {
		m, err := v1.ParseManifest(bytes.NewReader(manifests[d.Digest]))
		if err != nil {
			return nil, fmt.Errorf("%w: manifest %s: %v", ErrInvalid, d.Digest, err)
		}
		parsed[i] = m
		configs = append(configs, m.Config)
	}
	configBlobs, err := readBlobs(path, configs)
	if err != nil {
		return nil, err
	}

	entries := make([]Entry, len(index.Manifests))
	for i, d := range index.Manifests {
		cf, err := v1.ParseConfigFile(bytes.NewReader(configBlobs[parsed[i].Config.Digest]))
		if err != nil {
			return nil, fmt.Errorf("%w: config %s: %v", ErrInvalid, parsed[i].Config.Digest, err)
		}
		entries[i] = Entry{RefName: d.Annotations[RefNameAnnotation], ManifestDigest: d.Digest, MediaType: d.MediaType}
		if p := cf.Platform(); p != nil {
			entries[i].Platform = *p
		}
	}
	return entries, nil
}

// readBlobs returns the content of the blobs descs name, each checked against its digest.
func readBlobs(path string, descs []v1.Descriptor) (map[v1.Hash][]byte, error) {
	names := map[string]bool{}
	for _, d := range descs {
		if d.Digest.Algorithm != "sha256" {
			return nil, fmt.Errorf("%w: blob %s: only sha256 digests are supported", ErrInvalid, d.Digest)
		}
		names[blobsDir+d.Digest.Hex] = true
	}
	contents, err := readEntries(path, names)
	if err != nil {
		return nil, err
	}
	blobs := map[v1.Hash][]byte{}
	for _, d := range descs {
		data := contents[blobsDir+d.Digest.Hex]
		if data == nil {
			return nil, fmt.Errorf("%w: blob %s is missing", ErrInvalid, d.Digest)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != d.Digest.Hex {
			return nil, fmt.Errorf("%w: blob %s: %w: content hashes to sha256:%s", ErrInvalid, d.Digest, ErrDigestMismatch, got)
		}
		blobs[d.Digest] = data
	}
	return blobs, nil
}

// readEntries reads the metadata files of the archive whose cleaned names are in want.
func readEntries(file string, want map[string]bool) (map[string][]byte, error) {
	return ReadFiles(file, func(name string) bool { return want[name] }, maxMetadataSize)
}

// ReadFiles reads the regular files of a tar archive for which want(name) holds, keyed by
// cleaned name ("./x" and "x" are the same entry); other entries are skipped without being
// read. A wanted file over maxSize bytes is an error.
func ReadFiles(file string, want func(name string) bool, maxSize int64) (map[string][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	found := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		name := path.Clean(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !want(name) {
			continue
		}
		if hdr.Size > maxSize {
			return nil, fmt.Errorf("%w: %s is %d bytes, more than the %d allowed", ErrInvalid, name, hdr.Size, maxSize)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		found[name] = data
	}
}
