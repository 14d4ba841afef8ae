package ignition

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/kilnproject/kiln/internal/contract/console"
)

// Ignition's files in the initramfs.
const (
	Binary             = "/usr/bin/ignition"
	ignitionCache      = "/run/ignition.json"     // the fetched config (Ignition's default)
	ignitionState      = "/run/ignition/state"    // what Ignition fetched (Ignition's default)
	ignitionUserConfig = "/run/ignition/user.ign" // the system provider's config, first of SystemConfigDirs
)

// DefaultTimeout bounds each Ignition stage.
const DefaultTimeout = 5 * time.Minute

// RunOptions are what Run needs from kiln-init.
type RunOptions struct {
	Root string // the root filesystem Ignition writes to (--root)
	// Cmdline is the kernel command line Ignition sees, and CmdlineFile where it is written
	// for Ignition (IGNITION_KERNEL_CMDLINE_PATH).
	Cmdline, CmdlineFile string
	Debug                bool         // pass on Ignition's DEBUG lines (kiln.debug)
	Emit                 func(string) // prints a line on the console
}

// ignitionStages are the stages kiln-init runs: kiln has no disks, mount and umount stages
// (its disk layout is fixed) and no kargs stage (the kernel command line is in the ESP).
var ignitionStages = []string{"fetch", "files"}

// Run runs Ignition's stages against o.Root. applied is false when Ignition found no
// user config at the source after all (an empty fw_cfg blob, say); the files stage is skipped then.
func Run(ctx context.Context, p Plan, o RunOptions) (applied bool, err error) {
	if err := os.MkdirAll("/run/ignition", 0o700); err != nil {
		return false, err
	}
	if p.UserConfig != nil {
		if err := os.WriteFile(ignitionUserConfig, p.UserConfig, 0o600); err != nil {
			return false, err
		}
	}
	if err := os.WriteFile(o.CmdlineFile, []byte(o.Cmdline), 0o644); err != nil {
		return false, err
	}
	for _, stage := range ignitionStages {
		if err := stageRun(ctx, o, p.Platform, stage); err != nil {
			return false, err
		}
		if stage != "fetch" {
			continue
		}
		cfg, err := os.ReadFile(ignitionCache)
		if err != nil {
			return false, fmt.Errorf("%w: read the fetched config: %v", ErrIgnition, err)
		}
		if err := checkSupported(cfg); err != nil {
			return false, err
		}
		state, err := os.ReadFile(ignitionState)
		if err != nil {
			return false, fmt.Errorf("%w: read Ignition's state: %v", ErrIgnition, err)
		}
		if !userConfigFetched(state) {
			return false, nil
		}
	}
	return true, nil
}

// stageRun runs one Ignition stage, passing its output to the console through an
// ignitionFilter.
func stageRun(ctx context.Context, o RunOptions, platform, stage string) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	filter := &ignitionFilter{debug: o.Debug, emit: o.Emit}
	cmd := exec.CommandContext(ctx, Binary, "--platform="+platform, "--stage="+stage,
		"--root="+o.Root, "--log-to-stdout")
	cmd.Env = append(os.Environ(), "IGNITION_KERNEL_CMDLINE_PATH="+o.CmdlineFile)
	w := &lineWriter{fn: filter.line}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	w.flush()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%w: stage %s did not finish within %s", ErrIgnition, stage, DefaultTimeout)
	case err != nil:
		if last := filter.lastError(); last != "" {
			return fmt.Errorf("%w: stage %s: %v: %s", ErrIgnition, stage, err, last)
		}
		return fmt.Errorf("%w: stage %s: %v", ErrIgnition, stage, err)
	}
	return nil
}

// checkSupported fails for configs that need Ignition stages kiln-init does not run: storage
// other than files, directories and links, and kernel arguments.
func checkSupported(cfg []byte) error {
	var c struct {
		Storage struct {
			Disks, Raid, Filesystems, Luks []json.RawMessage
		}
		KernelArguments struct {
			ShouldExist, ShouldNotExist []json.RawMessage
		}
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return fmt.Errorf("%w: parse the fetched config: %v", ErrIgnition, err)
	}
	var bad []string
	for _, s := range []struct {
		name string
		n    int
	}{
		{"storage.disks", len(c.Storage.Disks)},
		{"storage.raid", len(c.Storage.Raid)},
		{"storage.filesystems", len(c.Storage.Filesystems)},
		{"storage.luks", len(c.Storage.Luks)},
		{"kernelArguments", len(c.KernelArguments.ShouldExist) + len(c.KernelArguments.ShouldNotExist)},
	} {
		if s.n > 0 {
			bad = append(bad, s.name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: the config uses %s: %w on kiln nodes, whose disk layout and kernel command line are fixed",
			ErrIgnition, strings.Join(bad, ", "), ErrUnsupported)
	}
	return nil
}

// userConfigFetched reports whether Ignition's state file records a fetched user config.
func userConfigFetched(state []byte) bool {
	var s struct {
		FetchedConfigs []struct{ Kind string } `json:"fetchedConfigs"`
	}
	if json.Unmarshal(state, &s) != nil {
		return false
	}
	for _, c := range s.FetchedConfigs {
		if c.Kind == "user" {
			return true
		}
	}
	return false
}

// ignitionFilter passes Ignition's log lines to the console: without DEBUG lines unless
// kiln.debug is set, and never the full config Ignition dumps on failure, which may hold keys.
type ignitionFilter struct {
	debug    bool
	emit     func(string)
	mu       sync.Mutex
	hidden   bool     // after "Full config:"
	failures []string // CRITICAL and ERROR lines
}

func (f *ignitionFilter) line(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.hidden:
		return
	case strings.HasPrefix(s, "Full config:"):
		f.hidden = true
		f.emit(console.IgnitionLinePrefix + "(the full config is not shown: it may hold secrets)")
		return
	case !f.debug && (strings.HasPrefix(s, "DEBUG") || isNoise(s)):
		return
	case strings.HasPrefix(s, "CRITICAL") || strings.HasPrefix(s, "ERROR"):
		f.failures = append(f.failures, s)
	}
	f.emit(console.IgnitionLinePrefix + s)
}

// ignitionNoise are the INFO lines of Ignition's search for base and system configs in the
// initramfs, where kiln keeps none; kiln.debug shows them.
var ignitionNoise = []string{`no config dir at "`, `no configs found in "`, `reading system config file "`, `no config at "`}

func isNoise(s string) bool {
	if !strings.HasPrefix(s, "INFO") {
		return false
	}
	for _, n := range ignitionNoise {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// lastError sums up the failure lines without their levels: the first CRITICAL line, with the
// first ERROR line (which usually names the bad part of the config) in parentheses.
func (f *ignitionFilter) lastError() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := func(l string) string {
		if _, m, ok := strings.Cut(l, ": "); ok {
			return strings.TrimSpace(m)
		}
		return l
	}
	var crit, firstErr string
	for _, l := range f.failures {
		switch {
		case strings.HasPrefix(l, "CRITICAL") && crit == "":
			crit = msg(l)
		case strings.HasPrefix(l, "ERROR") && firstErr == "":
			firstErr = msg(l)
		}
	}
	switch {
	case crit != "" && firstErr != "":
		return crit + " (" + firstErr + ")"
	case crit != "":
		return crit
	}
	return firstErr
}

// lineWriter calls fn with each complete line written to it.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line) // incomplete: keep it for later
			return len(p), nil
		}
		w.fn(strings.TrimRight(line, "\r\n"))
	}
}

// flush passes on a last line without a newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.fn(w.buf.String())
		w.buf.Reset()
	}
}
