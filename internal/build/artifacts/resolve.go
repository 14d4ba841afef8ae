package artifacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/kilnproject/kiln/internal/build/artifactstore"
	"github.com/kilnproject/kiln/internal/build/ociarchive"
	"github.com/kilnproject/kiln/internal/build/ociimage"
	"github.com/kilnproject/kiln/internal/build/source"
)

// Resolver brings every artifact of a manifest into a store.
type Resolver struct {
	Store *artifactstore.Store
	// Previous is the last lock written for this store, or nil. A built image whose inputs
	// match its entry there, and whose content is still in the store, is not built again.
	Previous *artifactstore.Lock
	// Created is the creation time of built images (SOURCE_DATE_EPOCH).
	Created time.Time
	// Log receives one line per artifact; nil discards them.
	Log *slog.Logger
	// SourceOptions are passed to every source (an HTTP client, a platform).
	SourceOptions []source.Option
}

// Resolve fetches the manifest's sourced artifacts, then builds its images, and returns the
// lock that records them all. It stops at the first error, which names the artifact.
func (r *Resolver) Resolve(ctx context.Context, m *Manifest) (*artifactstore.Lock, error) {
	lock := &artifactstore.Lock{}
	total := len(m.Artifacts)
	step := 0
	// Sourced artifacts first: builds read them.
	for _, a := range m.Artifacts {
		if a.Build != nil {
			continue
		}
		step++
		start := time.Now()
		e, err := r.fetch(ctx, a)
		if err != nil {
			return nil, err
		}
		lock.Set(e)
		r.logf(fmt.Sprintf("[%d/%d] %-30s %s  %s  %s", step, total, a.Name, short(e.SHA256), size(e.Size), since(start)), a.Name, e)
	}
	for _, a := range m.Artifacts {
		if a.Build == nil {
			continue
		}
		step++
		start := time.Now()
		e, built, err := r.build(ctx, a, lock)
		if err != nil {
			return nil, err
		}
		lock.Set(e)
		verb := "up to date"
		if built {
			verb = "built"
		}
		r.logf(fmt.Sprintf("[%d/%d] %-30s %s  %s  %s (%s)", step, total, a.Name, short(e.SHA256), size(e.Size), verb, since(start)), a.Name, e)
	}
	if err := lock.Validate(); err != nil {
		return nil, err
	}
	return lock, nil
}

func (r *Resolver) fetch(ctx context.Context, a Artifact) (artifactstore.Entry, error) {
	src, err := source.Parse(a.Source, a.SHA256, r.SourceOptions...)
	if err != nil {
		return artifactstore.Entry{}, fmt.Errorf("artifact %s: %w", a.Name, err)
	}
	want := a.SHA256
	if f, ok := src.(*source.File); ok && want == "" {
		// Hash a local file in place first: when the store holds it already, nothing is copied.
		if want, err = hashFile(f.Path); err != nil {
			return artifactstore.Entry{}, fmt.Errorf("artifact %s: %w", a.Name, err)
		}
	}
	e, err := r.Store.Put(ctx, a.Name, src, want)
	if err != nil {
		return artifactstore.Entry{}, fmt.Errorf("artifact %s: %w", a.Name, err)
	}
	e.Version, e.Kind = a.Version, a.Kind
	return e, nil
}

// build makes an image artifact from fetched ones, unless the previous lock holds the same
// build with the same inputs and its archive is intact in the store.
func (r *Resolver) build(ctx context.Context, a Artifact, lock *artifactstore.Lock) (artifactstore.Entry, bool, error) {
	inputs, err := r.inputsHash(a, lock)
	if err != nil {
		return artifactstore.Entry{}, false, err
	}
	if r.Previous != nil {
		if prev, ok := r.Previous.Find(a.Name); ok && prev.Inputs == inputs && prev.Origin == artifactstore.OriginBuild {
			if err := r.Store.Verify(prev); err == nil {
				prev.Version = a.Version
				return prev, false, nil
			}
		}
	}
	e, err := r.buildImage(ctx, a, lock)
	if err != nil {
		return artifactstore.Entry{}, false, fmt.Errorf("artifact %s: build %s: %w", a.Name, a.Build.Ref, err)
	}
	e.Version, e.Kind, e.Inputs = a.Version, a.Kind, inputs
	e.Origin, e.Source = artifactstore.OriginBuild, "build:"+a.Build.Ref
	return e, true, nil
}

// inputsHash is the sha256 of the build description, the build time and the content hash of
// every artifact the build reads.
func (r *Resolver) inputsHash(a Artifact, lock *artifactstore.Lock) (string, error) {
	used := map[string]string{}
	names := []string{}
	for _, f := range a.Build.Files {
		names = append(names, f.Artifact)
	}
	if a.Build.FromRootfs != nil {
		names = append(names, a.Build.FromRootfs.Artifact)
	}
	for _, n := range names {
		e, ok := lock.Find(n)
		if !ok {
			return "", fmt.Errorf("artifact %s: it is built from %s, which was not fetched", a.Name, n)
		}
		used[n] = e.SHA256
	}
	data, err := json.Marshal(struct {
		Build   *ImageBuild
		Created int64
		Inputs  map[string]string
		Format  int
	}{a.Build, r.Created.Unix(), used, buildFormat})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// buildFormat changes whenever the way images are built changes, so that old builds are redone.
// 2: zstd layers instead of gzip.
const buildFormat = 2

func (r *Resolver) buildImage(ctx context.Context, a Artifact, lock *artifactstore.Lock) (artifactstore.Entry, error) {
	b := a.Build
	spec := ociimage.Spec{Ref: b.Ref, Entrypoint: b.Entrypoint, Cmd: b.Cmd, Env: b.Env, Created: r.Created}
	for _, f := range b.Files {
		e, _ := lock.Find(f.Artifact)
		mode := fs.FileMode(0o755)
		if f.Mode != nil {
			mode = *f.Mode
		}
		spec.Files = append(spec.Files, ociimage.File{Path: f.Path, Source: r.Store.Path(e), Mode: mode})
	}
	if rf := b.FromRootfs; rf != nil {
		e, _ := lock.Find(rf.Artifact)
		files, cleanup, err := filesFromRootfs(r.Store.Path(e), rf)
		if err != nil {
			return artifactstore.Entry{}, err
		}
		defer cleanup()
		spec.Files = append(spec.Files, files...)
	}
	img, err := ociimage.Build(spec)
	if err != nil {
		return artifactstore.Entry{}, err
	}
	tmp, err := os.CreateTemp(r.Store.TempDir(), "image-*.tar")
	if err != nil {
		return artifactstore.Entry{}, err
	}
	defer os.Remove(tmp.Name())
	if err := ociarchive.Write(tmp, img, b.Ref); err != nil {
		tmp.Close()
		return artifactstore.Entry{}, err
	}
	if err := tmp.Close(); err != nil {
		return artifactstore.Entry{}, err
	}
	return r.Store.Put(ctx, a.Name, &source.File{Path: tmp.Name()}, "")
}

// logf logs one artifact's line with its name and digest as fields.
func (r *Resolver) logf(line, name string, e artifactstore.Entry) {
	if r.Log != nil {
		r.Log.Info(line, "artifact", name, "sha256", e.SHA256, "size", e.Size)
	}
}

func short(sha string) string { return "sha256:" + sha[:12] }

func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%7.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%7.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%7d B  ", n)
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
