package artifactstore

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/build/source"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/common/strictyaml"
)

// The lock file's apiVersion and kind.
const (
	LockAPIVersion = "kiln.dev/v1alpha1"
	LockKind       = "ArtifactLock"
)

// LockFileMode is the mode of a written lock file.
const LockFileMode = 0o644

// lockHeader opens every lock file.
const lockHeader = `# The inputs of kiln's node images: where each came from and its sha256.
# Written by kiln; change the profile and let kiln rewrite this file.
`

// ErrInvalidLock marks a lock file that was read but is wrong.
var ErrInvalidLock = errors.New("invalid artifact lock")

// Lock is the content of a lock file: one Entry per artifact.
type Lock struct {
	Artifacts []Entry
}

// lockFile is a Lock as its file holds it.
type lockFile struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Artifacts  []Entry `json:"artifacts"`
}

// Find returns the entry named name.
func (l *Lock) Find(name string) (Entry, bool) {
	for _, e := range l.Artifacts {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Set adds e, or replaces the entry of the same name.
func (l *Lock) Set(e Entry) {
	for i := range l.Artifacts {
		if l.Artifacts[i].Name == e.Name {
			l.Artifacts[i] = e
			return
		}
	}
	l.Artifacts = append(l.Artifacts, e)
}

// Validate checks that every entry is complete and that names are unique.
func (l *Lock) Validate() error {
	seen := map[string]bool{}
	var errs []error
	for i, e := range l.Artifacts {
		where := fmt.Sprintf("artifacts[%d] (%s)", i, e.Name)
		switch {
		case e.Name == "":
			errs = append(errs, fmt.Errorf("artifacts[%d]: no name", i))
		case seen[e.Name]:
			errs = append(errs, fmt.Errorf("%s: the name appears twice", where))
		}
		seen[e.Name] = true
		if !e.Origin.Valid() && e.Origin != OriginBuild {
			errs = append(errs, fmt.Errorf("%s: origin %q is not file, http, oci or build", where, e.Origin))
		}
		if e.Origin == OriginBuild && !source.ValidSHA256(e.Inputs) {
			errs = append(errs, fmt.Errorf("%s: a built artifact needs the sha256 of its inputs", where))
		}
		if e.Source == "" {
			errs = append(errs, fmt.Errorf("%s: no source", where))
		}
		if !source.ValidSHA256(e.SHA256) {
			errs = append(errs, fmt.Errorf("%s: sha256 %q is not 64 lowercase hex digits", where, e.SHA256))
		}
		if e.Size < 0 {
			errs = append(errs, fmt.Errorf("%s: negative size %d", where, e.Size))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidLock, err)
	}
	return nil
}

// WriteFile validates l and writes it to path atomically, artifacts sorted by name. l itself is
// not reordered.
func (l *Lock) WriteFile(path string) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	sorted := slices.Clone(l.Artifacts)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	data, err := yaml.Marshal(lockFile{APIVersion: LockAPIVersion, Kind: LockKind, Artifacts: sorted})
	if err != nil {
		return fmt.Errorf("write lock %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, append([]byte(lockHeader), data...), LockFileMode); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	return nil
}

// ReadLock reads a lock file strictly: an unknown or duplicate field, a wrong apiVersion or kind,
// or an incomplete entry is an ErrInvalidLock error that names it.
func ReadLock(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	l, err := parseLock(data)
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", path, err)
	}
	return l, nil
}

func parseLock(data []byte) (*Lock, error) {
	var f lockFile
	if err := strictyaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidLock, err)
	}
	if f.APIVersion != LockAPIVersion || f.Kind != LockKind {
		return nil, fmt.Errorf("%w: apiVersion %q, kind %q; want %s, %s", ErrInvalidLock, f.APIVersion, f.Kind, LockAPIVersion, LockKind)
	}
	l := &Lock{Artifacts: f.Artifacts}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return l, nil
}
