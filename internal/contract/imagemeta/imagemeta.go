// Package imagemeta is what a kiln image says about itself, written by "kiln build" into the
// root filesystem and read by the first-boot agent (the baked images to import) and by
// "kiln inspect": where the file and the baked archives are, and the schema of image.json.
//
// Standard library only: every program may use it.
package imagemeta

import (
	"encoding/json"
	"fmt"
)

// Paths inside the root filesystem.
const (
	// Path is the image's metadata (Metadata as JSON).
	Path = "/usr/lib/kiln/image.json"
	// ImagesDir holds the baked OCI archives, one per image, named after the artifact
	// ("kube-apiserver.tar"); the agent imports them into containerd.
	ImagesDir = "/usr/lib/kiln/images"
)

// Metadata is the content of Path.
type Metadata struct {
	Name              string     `json:"name"`
	Role              string     `json:"role"`
	KubernetesVersion string     `json:"kubernetesVersion"`
	KernelVersion     string     `json:"kernelVersion"`
	KernelArgs        string     `json:"kernelArgs"`
	Artifacts         []Artifact `json:"artifacts"`
	Images            []Image    `json:"images"`
}

// Artifact records one input of the image.
type Artifact struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// Image is a container image baked into the image as an OCI archive under ImagesDir.
type Image struct {
	// Ref is the image's name in containerd ("registry.k8s.io/kube-apiserver:v1.36.3").
	Ref string `json:"ref"`
	// Digest is its manifest's digest, which containerd must report after the import.
	Digest string `json:"digest"`
	// File is the archive's name in ImagesDir.
	File string `json:"file"`
}

// Parse reads Metadata from data (the content of Path).
func Parse(data []byte) (*Metadata, error) {
	var md Metadata
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	return &md, nil
}

// Marshal is md as the build writes it: indented JSON with a final newline.
func (md *Metadata) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
