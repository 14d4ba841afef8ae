package ociimage

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The platform of every image kiln builds.
const (
	OS           = "linux"
	Architecture = "amd64"
)

// Build builds the image spec describes: one layer, an OCI manifest and an OCI config for
// linux/amd64. Building the same Spec (with the same Source contents) twice gives the same
// digest. The layer is held in memory, compressed.
func Build(spec Spec) (v1.Image, error) {
	if _, err := ParseRef(spec.Ref); err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	files, err := spec.layerFiles()
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", spec.Ref, err)
	}
	created := spec.created()
	compression := spec.Compression
	switch compression {
	case "":
		compression = Zstd
	case Zstd, Gzip:
	default:
		return nil, fmt.Errorf("build %s: %w: compression %q: want %s or %s", spec.Ref, ErrInvalidSpec, compression, Zstd, Gzip)
	}
	l, err := newLayer(files, created, compression)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", spec.Ref, err)
	}
	layerType, _ := l.MediaType()

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     l,
		MediaType: layerType,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "kiln ociimage " + spec.Ref,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", spec.Ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", spec.Ref, err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = OS, Architecture
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint: spec.Entrypoint,
		Cmd:        spec.Cmd,
		Env:        spec.env(),
		User:       spec.User,
		WorkingDir: spec.WorkingDir,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", spec.Ref, err)
	}
	// Compute the digest now, so that errors surface here rather than in the archive writer.
	if _, err := img.Digest(); err != nil {
		return nil, fmt.Errorf("build %s: %w", spec.Ref, err)
	}
	return img, nil
}
