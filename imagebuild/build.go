package imagebuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kilnproject/kiln/internal/build/diskimage"
	"github.com/kilnproject/kiln/internal/build/profile"
)

// Options of one build.
type Options struct {
	Profile *profile.Profile
	// OutDir receives NAME.raw, NAME.iso and NAME-pxe/.
	OutDir string
	// Formats override the profile's.
	Formats []string
	// Epoch is SOURCE_DATE_EPOCH: every time stamp in the outputs.
	Epoch int64
	// KilnBinDir holds kiln-init (and kiln-agent); "" means next to the running binary.
	KilnBinDir string
	// WorkDir is scratch space ("" means a temporary directory, removed afterwards).
	WorkDir string
	// Log receives a line per step ("[3/7] squashfs (4.1s)"); nil discards them.
	Log *slog.Logger
}

// Output is one file or directory a build wrote.
type Output struct {
	Format string
	Path   string
	Size   int64
	SHA256 string // of the file; of the root squashfs for pxe
}

// ErrNotRoot means the build cannot keep the base's file owners.
var ErrNotRoot = errors.New("kiln build must run as root (it unpacks a root filesystem with its owners)")

// Build makes the profile's outputs. Outputs appear only when complete (written to a temporary
// name, then renamed); a failed build leaves none.
func Build(ctx context.Context, o Options) ([]Output, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	p := o.Profile
	formats := o.Formats
	if len(formats) == 0 {
		formats = p.Formats
	}
	if err := profile.CheckFormats(formats); err != nil {
		return nil, fmt.Errorf("formats: %w", err)
	}
	work := o.WorkDir
	if work == "" {
		tmp, err := os.MkdirTemp("", "kiln-build-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	total := 4 + len(formats)
	step := 0
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	progress := func(what string) {
		step++
		log.Info(fmt.Sprintf("[%d/%d] %s (%s)", step, total, what, time.Since(start).Round(100*time.Millisecond)),
			"step", step, "total", total)
	}
	mtime := time.Unix(o.Epoch, 0).UTC()

	progress("checking artifacts")
	in, err := loadInputs(p)
	if err != nil {
		return nil, err
	}
	kiln, err := findKilnBinaries(o.KilnBinDir)
	if err != nil {
		return nil, err
	}

	progress("assembling the root filesystem")
	tree := filepath.Join(work, "root")
	md, err := assemblePayload(ctx, tree, p, in, kiln)
	if err != nil {
		return nil, err
	}
	if err := bakeSnippet(tree, p.Butane); err != nil {
		return nil, err
	}
	md.KernelArgs = kernelCmdline(p.KernelArgs)
	if err := writeMetadata(tree, md); err != nil {
		return nil, err
	}

	progress("building the initramfs")
	initrd := filepath.Join(work, "initrd.img")
	if err := buildInitrd(tree, md.KernelVersion, kiln.init, in.path(ignitionArtifact), initrd, mtime); err != nil {
		return nil, err
	}
	esp := espFiles(tree, md.KernelVersion, initrd, md.KernelArgs)
	// The kernel and its loader live on the ESP; the root does not need the staged Ignition.
	staged := filepath.Join(work, "esp-staging")
	if err := stageESPSources(esp, staged); err != nil {
		return nil, err
	}
	for _, f := range []string{"usr/bin/ignition"} {
		os.Remove(filepath.Join(tree, f))
	}

	progress("packing the root filesystem (mksquashfs)")
	squash := filepath.Join(work, "root.squashfs")
	if err := makeSquashfs(ctx, tree, squash, o.Epoch); err != nil {
		return nil, err
	}
	os.RemoveAll(tree)

	seed := seedOf(p, in)
	var outs []Output
	for _, f := range formats {
		progress("writing " + f)
		out, err := writeFormat(f, o.OutDir, p, esp, squash, initrd, seed, mtime)
		if err != nil {
			return nil, err
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// stageESPSources copies the ESP's files out of the tree, which is removed before the outputs
// are written.
func stageESPSources(esp []diskimage.File, dir string) error {
	for i := range esp {
		if esp[i].Source == "" {
			continue
		}
		dst := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(esp[i].Source)))
		if err := copyFile(esp[i].Source, dst, 0o644); err != nil {
			return fmt.Errorf("stage %s: %w", esp[i].Path, err)
		}
		esp[i].Source = dst
	}
	return nil
}

// seedOf derives the image's GUIDs and serials from what it is made of, so they are stable
// across rebuilds of the same inputs and differ between profiles.
func seedOf(p *profile.Profile, in *inputs) string {
	h := sha256.New()
	io.WriteString(h, p.Name+"\x00"+p.Role+"\x00")
	for _, n := range sortedKeys(in.entries) {
		io.WriteString(h, n+"="+in.entries[n].SHA256+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sha256File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
