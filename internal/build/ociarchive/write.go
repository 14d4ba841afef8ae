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
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefNameAnnotation is the index.json annotation that names an image; containerd's importer
// uses it as the image name.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// LayoutVersion is the imageLayoutVersion of the oci-layout file.
const LayoutVersion = "1.0.0"

// Names of the entries of an OCI image layout.
const (
	layoutFile = "oci-layout"
	indexFile  = "index.json"
	blobsDir   = "blobs/sha256/"
)

// Modes of the archive's entries.
const (
	fileMode = 0o644
	dirMode  = 0o755
)

// ErrDigestMismatch marks a blob whose content does not hash to the digest that names it.
var ErrDigestMismatch = errors.New("blob digest mismatch")

// epoch is the mtime of every entry: the zero time.Time does not fit a ustar header.
var epoch = time.Unix(0, 0)

// blob is one entry of blobs/sha256/: either in memory (manifest, config) or a layer.
type blob struct {
	digest v1.Hash
	size   int64
	data   []byte   // set for manifest and config
	layer  v1.Layer // set for layers; its compressed form is the blob
}

// Write writes img to w as an OCI archive whose index.json names it refName (a full image
// reference such as "registry.k8s.io/pause:3.10"). Every blob is checked against its digest
// while it is copied.
func Write(w io.Writer, img v1.Image, refName string) error {
	if refName == "" {
		return errors.New("write OCI archive: the image needs a ref name (containerd imports nothing without it)")
	}
	blobs, index, err := collect(img, refName)
	if err != nil {
		return fmt.Errorf("write OCI archive of %s: %w", refName, err)
	}
	if err := writeTar(w, blobs, index); err != nil {
		return fmt.Errorf("write OCI archive of %s: %w", refName, err)
	}
	return nil
}

// collect gathers img's blobs, sorted by digest and without duplicates, and renders index.json.
func collect(img v1.Image, refName string) ([]blob, []byte, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest: %w", err)
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		return nil, nil, fmt.Errorf("digest manifest: %w", err)
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest media type: %w", err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return nil, nil, fmt.Errorf("parse manifest: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	config, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("parse config: %w", err)
	}

	blobs := []blob{
		{digest: manifestDigest, size: int64(len(rawManifest)), data: rawManifest},
		{digest: manifest.Config.Digest, size: int64(len(rawConfig)), data: rawConfig},
	}
	for _, desc := range manifest.Layers {
		layer, err := img.LayerByDigest(desc.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", desc.Digest, err)
		}
		blobs = append(blobs, blob{digest: desc.Digest, size: desc.Size, layer: layer})
	}
	for _, b := range blobs {
		if b.digest.Algorithm != "sha256" {
			return nil, nil, fmt.Errorf("blob %s: only sha256 digests are supported", b.digest)
		}
	}
	slices.SortFunc(blobs, func(a, b blob) int { return strings.Compare(a.digest.Hex, b.digest.Hex) })
	blobs = slices.CompactFunc(blobs, func(a, b blob) bool { return a.digest == b.digest })

	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   mediaType,
			Size:        int64(len(rawManifest)),
			Digest:      manifestDigest,
			Annotations: map[string]string{RefNameAnnotation: refName},
			Platform:    config.Platform(),
		}},
	}
	rawIndex, err := json.Marshal(index)
	if err != nil {
		return nil, nil, fmt.Errorf("render index.json: %w", err)
	}
	return blobs, rawIndex, nil
}

// writeTar writes the layout's entries in name order: blobs/, blobs/sha256/, the blobs,
// index.json, oci-layout.
func writeTar(w io.Writer, blobs []blob, index []byte) error {
	tw := tar.NewWriter(w)
	for _, dir := range []string{"blobs/", blobsDir} {
		if err := tw.WriteHeader(header(dir, tar.TypeDir, dirMode, 0)); err != nil {
			return err
		}
	}
	for _, b := range blobs {
		if err := writeBlob(tw, b); err != nil {
			return fmt.Errorf("blob %s: %w", b.digest, err)
		}
	}
	layout := []byte(`{"imageLayoutVersion":"` + LayoutVersion + `"}`)
	for _, f := range []struct {
		name string
		data []byte
	}{{indexFile, index}, {layoutFile, layout}} {
		if err := tw.WriteHeader(header(f.name, tar.TypeReg, fileMode, int64(len(f.data)))); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// writeBlob copies one blob into the archive and checks that it hashes to its digest.
func writeBlob(tw *tar.Writer, b blob) error {
	var r io.Reader
	if b.data != nil {
		r = bytes.NewReader(b.data)
	} else {
		rc, err := b.layer.Compressed()
		if err != nil {
			return err
		}
		defer rc.Close()
		r = rc
	}
	if err := tw.WriteHeader(header(blobsDir+b.digest.Hex, tar.TypeReg, fileMode, b.size)); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(tw, io.TeeReader(io.LimitReader(r, b.size+1), h))
	if err != nil {
		return err
	}
	if n != b.size {
		return fmt.Errorf("%w: %d bytes, the manifest says %d", ErrDigestMismatch, n, b.size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != b.digest.Hex {
		return fmt.Errorf("%w: content hashes to sha256:%s", ErrDigestMismatch, got)
	}
	return nil
}

func header(name string, typ byte, mode int64, size int64) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     mode,
		Size:     size,
		ModTime:  epoch,
	}
}
