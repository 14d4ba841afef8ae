// Command firstboot is "make bench-firstboot": where a node's first boot spends its time. It
// builds the control-plane and worker images with kiln, boots them as a two-node cluster in
// QEMU (package vmcluster, the same settings as the cluster test), and prints, per node, the
// milestones (power-on → API server ready, → Node Ready), the agent's phases with their
// durations, and the agent's own footprint (CPU seconds, peak RSS) as it reports it. It
// prints; it never fails on timing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"syscall"
	"time"

	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

func main() {
	dir := flag.String("dir", "", "where images, disks and logs go (default: a temporary directory, removed at the end)")
	kiln := flag.String("kiln", "bin/kiln", "the kiln binary")
	flag.Parse()
	if err := run(*dir, *kiln); err != nil {
		fmt.Fprintf(os.Stderr, "bench-firstboot: %v\n", err)
		os.Exit(1)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench-firstboot %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(dir, kiln string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kiln-bench-firstboot-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	images, err := buildImages(ctx, kiln, dir)
	if err != nil {
		return err
	}
	runDir := filepath.Join(dir, "run")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	p, err := vmcluster.Prepare(ctx, vmcluster.Options{ControlPlaneImage: images["control-plane"], WorkerImage: images["worker"], Dir: runDir})
	if err != nil {
		return err
	}
	defer p.Close()

	ctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()
	cpStart := time.Now()
	cp, err := harness.Launch(ctx, p.ControlPlaneConfig())
	if err != nil {
		return err
	}
	defer powerOff(cp)
	workerStart := time.Now()
	worker, err := harness.Launch(ctx, p.WorkerConfig())
	if err != nil {
		return err
	}
	defer powerOff(worker)
	progress("booted %s and %s under %s; consoles %s, %s", cp.Name(), worker.Name(), cp.Accel(), cp.ConsoleLog(), worker.ConsoleLog())

	client, err := p.Client()
	if err != nil {
		return err
	}
	ready := map[string]time.Duration{}
	err = vmcluster.WaitNodesReady(ctx, client, []string{vmcluster.ControlPlaneName, vmcluster.WorkerName}, func(name string) {
		start := workerStart
		if name == vmcluster.ControlPlaneName {
			start = cpStart
		}
		ready[name] = time.Since(start)
		progress("node %s Ready", name)
	})
	if err != nil {
		return err
	}
	cpReport, err := readReport(ctx, cp)
	if err != nil {
		return err
	}
	workerReport, err := readReport(ctx, worker)
	if err != nil {
		return err
	}
	cpReport.nodeReady, workerReport.nodeReady = ready[vmcluster.ControlPlaneName], ready[vmcluster.WorkerName]

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("first boot under QEMU (%s), host: %d cores, load %s", cp.Accel(), runtime.NumCPU(), load)
	fmt.Printf("control plane: 2 vCPUs, 3 GiB; worker: 1 vCPU, 2 GiB; both powered on together\n\n")
	printReports(os.Stdout, []namedReport{{"control plane", cpReport}, {"worker", workerReport}})
	return nil
}

// buildImages runs kiln build for both profiles (raw only) and returns the images by profile.
func buildImages(ctx context.Context, kiln, dir string) (map[string]string, error) {
	images := map[string]string{}
	for _, profile := range []string{"control-plane", "worker"} {
		out := filepath.Join(dir, "images", profile)
		progress("building the %s image", profile)
		cmd := exec.CommandContext(ctx, kiln, "build", "--profile", "profiles/"+profile+".yaml", "--out", out, "--format", "raw", "-q")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("kiln build %s: %w", profile, err)
		}
		images[profile] = filepath.Join(out, profile+".raw")
	}
	return images, nil
}

// Console lines of kiln-agent the report reads.
var (
	firstbootDone = regexp.MustCompile(`\[kiln\] first boot complete in (\S+):`)
	firstbootFail = regexp.MustCompile(`\[[a-z/-]+\] FAILED after`)
)

// readReport waits for the agent to finish on vm and reads its report from the console.
func readReport(ctx context.Context, vm *harness.VM) (report, error) {
	i, line, err := vm.WaitForAny(ctx, firstbootDone, firstbootFail)
	if err != nil {
		return report{}, fmt.Errorf("%s: %w", vm.Name(), err)
	}
	if i != 0 {
		return report{}, fmt.Errorf("%s: %s", vm.Name(), line.Text)
	}
	return parseReport(vm.Lines())
}

func powerOff(vm *harness.VM) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := vm.Powerdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench-firstboot: %v\n", err)
	}
	vm.Close()
}
