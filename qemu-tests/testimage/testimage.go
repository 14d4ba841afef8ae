// Package testimage builds the node images VM tests boot, from the artifacts `make artifacts`
// made, once per test process.
package testimage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/build/profile"
	"github.com/kilnproject/kiln/internal/common/linelog"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
)

// Images are the outputs of one build of a profile.
type Images struct {
	Raw, ISO string
	PXE      string // the bundle's directory
}

var (
	once sync.Map // profile name → *build
	mu   sync.Mutex
	dirs []string // what Cleanup removes
)

// Cleanup removes every image built by this process; call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	dirs = nil
}

type build struct {
	once sync.Once
	imgs Images
	err  error
	log  []string
}

// Worker returns the worker image, building it on first use. It skips the test when the
// artifacts are not there (make test provides them) or without root.
func Worker(t *testing.T) Images { return get(t, "worker") }

// ControlPlane returns the control-plane image.
func ControlPlane(t *testing.T) Images { return get(t, "control-plane") }

// Build builds the profile's image into dir now, without the cache: a reproducibility check
// builds twice. It skips like Worker does.
func Build(t *testing.T, name, dir string) []imagebuild.Output {
	t.Helper()
	lock, store := artifacts(t)
	var log []string
	outs, err := buildProfile(name, lock, store, dir, &log)
	for _, l := range log {
		t.Log(l)
	}
	if err != nil {
		t.Fatalf("build the %s image: %v", name, err)
	}
	return outs
}

// artifacts are the lock and store make test names; without them, or without root, the test
// skips.
func artifacts(t *testing.T) (lock, store string) {
	t.Helper()
	lock, store = os.Getenv("KILN_ARTIFACT_LOCK"), os.Getenv("KILN_ARTIFACT_STORE")
	if lock == "" || store == "" {
		t.Skip("KILN_ARTIFACT_LOCK and KILN_ARTIFACT_STORE are not set (make test sets them after make artifacts)")
	}
	if os.Geteuid() != 0 {
		t.Skip("kiln build needs root")
	}
	return lock, store
}

func get(t *testing.T, name string) Images {
	t.Helper()
	lock, store := artifacts(t)
	v, _ := once.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() { b.imgs, b.err = buildCached(name, lock, store, &b.log) })
	for _, l := range b.log {
		t.Log(l)
	}
	if b.err != nil {
		t.Fatalf("build the %s image: %v", name, b.err)
	}
	return b.imgs
}

// buildCached builds into a directory that outlives single tests (Cleanup removes it): one
// build serves the whole process.
func buildCached(name, lock, store string, log *[]string) (Images, error) {
	out, err := os.MkdirTemp("", "kiln-testimage-"+name+"-*")
	if err != nil {
		return Images{}, err
	}
	mu.Lock()
	dirs = append(dirs, out)
	mu.Unlock()
	outs, err := buildProfile(name, lock, store, out, log)
	if err != nil {
		return Images{}, err
	}
	var imgs Images
	for _, o := range outs {
		switch o.Format {
		case profile.FormatRaw:
			imgs.Raw = o.Path
		case profile.FormatISO:
			imgs.ISO = o.Path
		case profile.FormatPXE:
			imgs.PXE = o.Path
		}
	}
	return imgs, nil
}

// buildProfile builds kiln-init and kiln-agent and then profiles/NAME.yaml with the given artifacts into out.
func buildProfile(name, lock, store, out string, log *[]string) ([]imagebuild.Output, error) {
	_, here, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(here), "..", "..")
	p, err := profile.LoadFile(filepath.Join(repo, "profiles", name+".yaml"))
	if err != nil {
		return nil, err
	}
	p.Artifacts.Lock, p.Artifacts.Store = lock, store
	bin, err := os.MkdirTemp("", "kiln-testimage-bin-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	// The node's own programs, from this tree: what the test changes is what the VM runs.
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin+"/", "./cmd/kiln-init", "./cmd/kiln-agent")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build kiln-init and kiln-agent: %v: %s", err, b)
	}
	var steps bytes.Buffer
	outs, err := imagebuild.Build(context.Background(), imagebuild.Options{
		Profile: p, OutDir: out, Epoch: 1700000000, KilnBinDir: bin,
		Log: slog.New(linelog.NewHandler(&steps, "build "+name+": ")),
	})
	*log = append(*log, strings.Split(strings.TrimSuffix(steps.String(), "\n"), "\n")...)
	return outs, err
}

// KernelOptions is the kernel command line the image's loader entry carries, as the PXE
// bundle's boot.ipxe repeats it: the words between "initrd=…" and the PXE-only kiln.root.url=.
// A test that boots the bundle's kernel directly passes these plus its own.
func (i Images) KernelOptions(t testing.TB) string {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(i.PXE, imagebuild.PXEScript))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(script), "\n") {
		words := strings.Fields(line)
		if len(words) < 2 || words[0] != "kernel" {
			continue
		}
		var opts []string
		for _, w := range words[2:] {
			if strings.HasPrefix(w, bootargs.RootURL+"=") {
				return strings.Join(opts, " ")
			}
			if !strings.HasPrefix(w, "initrd=") {
				opts = append(opts, w)
			}
		}
	}
	t.Fatalf("no kernel line with %s= in %s:\n%s", bootargs.RootURL, imagebuild.PXEScript, script)
	return ""
}
