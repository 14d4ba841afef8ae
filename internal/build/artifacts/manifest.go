package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kilnproject/kiln/internal/build/envexpand"
	"github.com/kilnproject/kiln/internal/common/strictyaml"
)

// The manifest's type identifiers.
const (
	APIVersion = "kiln.dev/v1alpha1"
	Kind       = "Artifacts"
)

// What an artifact is; the image builder places each kind differently.
const (
	KindBinary = "binary" // an executable
	KindRootfs = "rootfs" // a tarball of the base root filesystem
	KindImage  = "image"  // a container image as an OCI archive
)

// ErrInvalid marks a manifest that was read but is wrong.
var ErrInvalid = errors.New("invalid artifact manifest")

// Manifest lists the artifacts of a node image.
type Manifest struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Artifacts  []Artifact `json:"artifacts"`
}

// Artifact is one input: fetched from Source, or (images only) built by Build.
type Artifact struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
	// Source is a local path, an http(s) URL or oci://REFERENCE; ${VAR} is expanded.
	Source string `json:"source,omitempty"`
	// SHA256 is required for URLs; for local paths and registry images the lock records it.
	SHA256 string      `json:"sha256,omitempty"`
	Build  *ImageBuild `json:"build,omitempty"`
}

// ImageBuild describes a container image made from other artifacts of the manifest.
type ImageBuild struct {
	// Ref names the image as upstream does, e.g. registry.k8s.io/kube-apiserver:v1.36.3.
	Ref        string       `json:"ref"`
	Files      []ImageFile  `json:"files"`
	FromRootfs *RootfsFiles `json:"fromRootfs,omitempty"`
	Entrypoint []string     `json:"entrypoint,omitempty"`
	Cmd        []string     `json:"cmd,omitempty"`
	Env        []string     `json:"env,omitempty"`
}

// ImageFile places a binary artifact in an image.
type ImageFile struct {
	Path     string       `json:"path"`
	Artifact string       `json:"artifact"`
	Mode     *fs.FileMode `json:"mode,omitempty"` // default 0755
}

// RootfsFiles copies executables, with the shared libraries they load, out of a rootfs artifact.
type RootfsFiles struct {
	Artifact string            `json:"artifact"`
	Binaries []string          `json:"binaries"`
	Symlinks map[string]string `json:"symlinks,omitempty"` // path in the image → target
}

// LoadFile reads and validates a manifest, expanding ${VAR} in sources from the environment.
func LoadFile(file string) (*Manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read artifact manifest: %w", err)
	}
	m, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

// Parse decodes a manifest strictly, expands ${VAR} in sources with lookup and validates it.
func Parse(data []byte, lookup func(string) (string, bool)) (*Manifest, error) {
	var m Manifest
	if err := strictyaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if m.APIVersion != APIVersion || m.Kind != Kind {
		return nil, fmt.Errorf("%w: apiVersion/kind is %q/%q, want %s/%s", ErrInvalid, m.APIVersion, m.Kind, APIVersion, Kind)
	}
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		src, err := envexpand.Expand(a.Source, lookup)
		if err != nil {
			return nil, fmt.Errorf("%w: artifacts[%d] (%s).source: %w", ErrInvalid, i, a.Name, err)
		}
		a.Source = src
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &m, nil
}

// Find returns the artifact called name, or nil.
func (m *Manifest) Find(name string) *Artifact {
	for i := range m.Artifacts {
		if m.Artifacts[i].Name == name {
			return &m.Artifacts[i]
		}
	}
	return nil
}

func (m *Manifest) validate() error {
	seen := map[string]bool{}
	for i, a := range m.Artifacts {
		where := fmt.Sprintf("artifacts[%d] (%s)", i, a.Name)
		if a.Name == "" {
			return fmt.Errorf("artifacts[%d].name is empty", i)
		}
		if seen[a.Name] {
			return fmt.Errorf("%s: the name appears twice", where)
		}
		seen[a.Name] = true
		switch a.Kind {
		case KindBinary, KindRootfs, KindImage:
		default:
			return fmt.Errorf("%s.kind %q is not one of %s, %s, %s", where, a.Kind, KindBinary, KindRootfs, KindImage)
		}
		if a.Version == "" {
			return fmt.Errorf("%s.version is empty", where)
		}
		switch {
		case a.Source == "" && a.Build == nil:
			return fmt.Errorf("%s: needs a source or a build", where)
		case a.Source != "" && a.Build != nil:
			return fmt.Errorf("%s: has both a source and a build; give one", where)
		case a.Build != nil && a.Kind != KindImage:
			return fmt.Errorf("%s: only images can be built, this is a %s", where, a.Kind)
		case a.Build != nil:
			if err := m.validateBuild(where+".build", a.Build); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manifest) validateBuild(where string, b *ImageBuild) error {
	if _, err := name.NewTag(b.Ref, name.StrictValidation); err != nil {
		return fmt.Errorf("%s.ref %q is not an image name with a tag: %v", where, b.Ref, err)
	}
	if len(b.Files) == 0 {
		return fmt.Errorf("%s.files is empty", where)
	}
	for j, f := range b.Files {
		fw := fmt.Sprintf("%s.files[%d]", where, j)
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path {
			return fmt.Errorf("%s.path %q is not a clean absolute path", fw, f.Path)
		}
		if err := m.requireKind(fw+".artifact", f.Artifact, KindBinary); err != nil {
			return err
		}
	}
	if r := b.FromRootfs; r != nil {
		if err := m.requireKind(where+".fromRootfs.artifact", r.Artifact, KindRootfs); err != nil {
			return err
		}
		for j, p := range r.Binaries {
			if !path.IsAbs(p) {
				return fmt.Errorf("%s.fromRootfs.binaries[%d] %q is not an absolute path", where, j, p)
			}
		}
		for p, target := range r.Symlinks {
			if !path.IsAbs(p) || target == "" {
				return fmt.Errorf("%s.fromRootfs.symlinks: %q → %q needs an absolute path and a target", where, p, target)
			}
		}
	}
	return nil
}

func (m *Manifest) requireKind(where, name, kind string) error {
	a := m.Find(name)
	switch {
	case a == nil:
		return fmt.Errorf("%s: no artifact is called %q", where, name)
	case a.Kind != kind:
		return fmt.Errorf("%s: %q is a %s, want a %s", where, name, a.Kind, kind)
	case a.Build != nil:
		return fmt.Errorf("%s: %q is built, images can only use fetched artifacts", where, name)
	}
	return nil
}
