package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kilnproject/kiln/internal/build/ociimage"
)

// configuration is one way of running the images phase.
type configuration struct {
	name        string
	compression ociimage.Compression // of the layers
	atOnce      int                  // ctr imports running side by side
}

// configurations are the agent before the change, zstd alone, and the agent now.
func configurations(cpus int) []configuration {
	return []configuration{
		{name: "before: gzip, one after another", compression: ociimage.Gzip, atOnce: 1},
		{name: "zstd, one after another", compression: ociimage.Zstd, atOnce: 1},
		{name: "after: zstd, one per CPU", compression: ociimage.Zstd, atOnce: cpus},
	}
}

// archive is one image archive to import.
type archive struct {
	ref  string // the name containerd lists it under
	path string
}

// measurement is what one round measured.
type measurement struct {
	wall          time.Duration // first import started → last import done
	containerdCPU time.Duration // containerd's user+system time over the same span
	ctrCPU        time.Duration // the ctr processes' user+system time
}

// runRound starts an empty containerd in dir, imports the archives as c says, checks that
// containerd lists them all, then stops containerd and removes dir.
func runRound(ctx context.Context, bin binaries, dir string, archives []archive, c configuration) (m measurement, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return measurement{}, err
	}
	defer func() {
		if rmErr := removeDir(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("remove the round's directory: %w", rmErr)
		}
	}()
	d, err := startDaemon(ctx, bin, dir)
	if err != nil {
		return measurement{}, err
	}
	defer d.stop() // before the directory is removed

	cpuBefore, err := d.cpuTime()
	if err != nil {
		return measurement{}, err
	}
	start := time.Now()
	ctrCPU, err := importAll(ctx, d, archives, c.atOnce)
	if err != nil {
		return measurement{}, err
	}
	wall := time.Since(start)
	cpuAfter, err := d.cpuTime()
	if err != nil {
		return measurement{}, err
	}
	if err := checkImported(ctx, d, archives); err != nil {
		return measurement{}, err
	}
	return measurement{wall: wall, containerdCPU: cpuAfter - cpuBefore, ctrCPU: ctrCPU}, nil
}

// importAll imports the archives, atOnce at a time, as the agent's images phase does, and
// returns the CPU time of the ctr processes.
func importAll(ctx context.Context, d *daemon, archives []archive, atOnce int) (time.Duration, error) {
	var ctrCPU atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(atOnce)
	for _, a := range archives {
		g.Go(func() error {
			cpu, err := d.importArchive(gctx, a.path)
			if err != nil {
				return fmt.Errorf("import %s: %w", a.ref, err)
			}
			ctrCPU.Add(int64(cpu))
			return nil
		})
	}
	err := g.Wait()
	return time.Duration(ctrCPU.Load()), err
}

// checkImported fails unless containerd lists every archive's image.
func checkImported(ctx context.Context, d *daemon, archives []archive) error {
	refs, err := d.imageRefs(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, a := range archives {
		if !slices.Contains(refs, a.ref) {
			missing = append(missing, a.ref)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("after the imports containerd lists %q; missing %q", refs, missing)
	}
	return nil
}
