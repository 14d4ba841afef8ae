package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/kilnproject/kiln/internal/build/artifactstore"
	"github.com/kilnproject/kiln/internal/build/ociimage"
)

// Kinds of the artifacts the benchmark reads, as the lock records them.
const (
	kindBinary = "binary"
	kindImage  = "image"
)

// inputs are the artifacts the benchmark needs, found in the lock and present in the store.
type inputs struct {
	store      *artifactstore.Store
	containerd artifactstore.Entry
	ctr        artifactstore.Entry
	images     []artifactstore.Entry // in the order the images phase imports them
}

// loadInputs finds containerd, ctr and the images in the lock and checks that the store
// holds them. Every missing one is named.
func loadInputs(o *options) (*inputs, error) {
	lock, err := artifactstore.ReadLock(o.lock)
	if err != nil {
		return nil, fmt.Errorf("%w (`make artifacts` writes it)", err)
	}
	if _, err := os.Stat(o.store); err != nil {
		return nil, fmt.Errorf("artifact store: %w (`make artifacts` fills it)", err)
	}
	store, err := artifactstore.Open(o.store)
	if err != nil {
		return nil, err
	}
	var errs []error
	find := func(name, kind string) artifactstore.Entry {
		e, ok := lock.Find(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("the lock has no artifact %q", name))
		case e.Kind != kind:
			errs = append(errs, fmt.Errorf("artifact %q is of kind %q, want %q", name, e.Kind, kind))
		default:
			if _, err := os.Stat(store.Path(e)); err != nil {
				errs = append(errs, fmt.Errorf("artifact %q (sha256:%s) is not in the store: %w", name, e.SHA256, err))
			}
		}
		return e
	}
	in := &inputs{store: store, containerd: find("containerd", kindBinary), ctr: find("ctr", kindBinary)}
	for _, name := range o.images {
		in.images = append(in.images, find(name, kindImage))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("lock %s, store %s (`make artifacts` builds them):\n%w", o.lock, o.store, err)
	}
	return in, nil
}

// installBinaries copies containerd and ctr from the store (whose files are not executable)
// into dir.
func installBinaries(in *inputs, dir string) (binaries, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return binaries{}, err
	}
	bin := binaries{containerd: filepath.Join(dir, "containerd"), ctr: filepath.Join(dir, "ctr")}
	for dst, e := range map[string]artifactstore.Entry{bin.containerd: in.containerd, bin.ctr: in.ctr} {
		if err := copyFile(in.store.Path(e), dst, 0o755); err != nil {
			return binaries{}, fmt.Errorf("install %s: %w", e.Name, err)
		}
	}
	return bin, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// variantSet is every image's archive with one compression.
type variantSet struct {
	archives     []archive
	layerSize    int64 // compressed, all images
	unpackedSize int64 // the layers' tars, all images
}

// prepareVariants writes a gzip and a zstd variant of every image archive into dir, whatever
// compression the stored archives have.
func prepareVariants(in *inputs, dir string) (map[ociimage.Compression]variantSet, error) {
	variants := map[ociimage.Compression]variantSet{}
	for _, c := range []ociimage.Compression{ociimage.Gzip, ociimage.Zstd} {
		start := time.Now()
		if err := os.MkdirAll(filepath.Join(dir, string(c)), 0o755); err != nil {
			return nil, err
		}
		var set variantSet
		for _, e := range in.images {
			dst := filepath.Join(dir, string(c), path.Base(e.Name)+".tar")
			r, err := recompress(in.store.Path(e), dst, c)
			if err != nil {
				return nil, fmt.Errorf("artifact %s: %w", e.Name, err)
			}
			set.archives = append(set.archives, archive{ref: r.ref, path: dst})
			set.layerSize += r.layerSize
			set.unpackedSize += r.unpackedSize
		}
		variants[c] = set
		progress("%s variants of %d archives written in %s", c, len(set.archives), time.Since(start).Round(100*time.Millisecond))
	}
	return variants, nil
}
