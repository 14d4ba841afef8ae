// Command imports measures where the first boot's images phase spends its time: the
// control plane's image archives imported into a real, empty containerd with
// `ctr -n k8s.io images import`, as the agent does (firstboot/images.go), in three
// configurations:
//
//   - before: gzip layers, one import after another (the agent before the change);
//   - zstd layers, one import after another;
//   - after: zstd layers, one import per CPU side by side (the agent now).
//
// The archives come from the artifact store, whatever their compression: a gzip and a zstd
// variant of each is written first (not timed). Every round starts a containerd on a fresh
// root under a temporary directory, imports, checks that every image is listed, and stops
// containerd by its PID. It prints, per configuration, the median wall time, containerd's CPU
// time and the ctr clients', and their ratios to "before". It exits non-zero when an input is
// missing or a round fails; the temporary directory is removed, also on Ctrl-C.
//
//	go run ./bench/imports --runs 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/kilnproject/kiln/internal/build/envexpand"
	"github.com/kilnproject/kiln/internal/build/ociimage"
	"github.com/kilnproject/kiln/internal/build/profile"
)

// defaultProfile is the profile whose images are imported unless --images names them.
const defaultProfile = "profiles/control-plane.yaml"

// options are the command-line flags.
type options struct {
	lock   string   // the artifact lock
	store  string   // the artifact store
	images []string // artifact names of the images, in import order
	runs   int      // rounds per configuration
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "imports:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = bench(ctx, o, os.Stdout)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "imports: interrupted; containerd stopped, temporary files removed")
		return 130
	case err != nil:
		fmt.Fprintln(os.Stderr, "imports:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string) (*options, error) {
	cache, err := envexpand.DefaultCache()
	if err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet("imports", flag.ContinueOnError)
	o := &options{}
	fs.StringVar(&o.lock, "lock", filepath.Join(cache, "artifacts.lock"), "artifact lock")
	fs.StringVar(&o.store, "store", filepath.Join(cache, "store"), "artifact store")
	profilePath := fs.String("profile", defaultProfile, "profile whose images: are imported")
	images := fs.String("images", "", "comma-separated image artifact names, in import order (default: the profile's images:)")
	fs.IntVar(&o.runs, "runs", 3, "rounds per configuration; the report shows medians")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.runs < 1 {
		return nil, errors.New("--runs must be at least 1")
	}
	if *images != "" {
		for _, name := range strings.Split(*images, ",") {
			o.images = append(o.images, strings.TrimSpace(name))
		}
		return o, nil
	}
	p, err := profile.LoadFile(*profilePath)
	if err != nil {
		return nil, fmt.Errorf("%w (run from the repository's root, or set --profile or --images)", err)
	}
	if len(p.Images) == 0 {
		return nil, fmt.Errorf("profile %s lists no images", *profilePath)
	}
	o.images = p.Images
	return o, nil
}

// progress prints a progress line to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[imports] "+format+"\n", args...)
}

// bench prepares the archives, runs the rounds and prints the report to out.
func bench(ctx context.Context, o *options, out io.Writer) error {
	machine := machineNote()
	in, err := loadInputs(o)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "kiln-bench-imports-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, err := installBinaries(in, filepath.Join(work, "bin"))
	if err != nil {
		return err
	}
	progress("writing a gzip and a zstd variant of %d image archives into %s", len(in.images), work)
	variants, err := prepareVariants(in, filepath.Join(work, "archives"))
	if err != nil {
		return err
	}

	configs := configurations(runtime.NumCPU())
	rounds := make([][]measurement, len(configs))
	for r := 1; r <= o.runs; r++ {
		for i, c := range configs {
			dir := filepath.Join(work, "rounds", fmt.Sprintf("%d-%d", r, i+1))
			m, err := runRound(ctx, bin, dir, variants[c.compression].archives, c)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", c.name, r, err)
			}
			progress("round %d/%d, %s: wall %s, containerd CPU %s, ctr CPU %s",
				r, o.runs, c.name, seconds(m.wall), seconds(m.containerdCPU), seconds(m.ctrCPU))
			rounds[i] = append(rounds[i], m)
		}
	}

	rows := make([]row, len(configs))
	for i, c := range configs {
		rows[i] = summarize(c, rounds[i])
	}
	printHeader(out, reportHeader{
		machine:    machine,
		containerd: in.containerd.Version,
		images:     len(in.images),
		runs:       o.runs,
		gzip:       variants[ociimage.Gzip],
		zstd:       variants[ociimage.Zstd],
	})
	fmt.Fprintln(out)
	printTable(out, rows)
	return nil
}
