// Command firstboot is "make bench-firstboot": kiln's first boot against stock kubeadm's, and
// where the time goes. It builds the control-plane and worker images with kiln and boots them
// as a two-node cluster in QEMU (package vmcluster, the same settings as the cluster test) once
// per variant and run: with kiln-agent, and with kiln-agent masked and stock kubeadm init/join
// doing the first boot on the same images (kubeadm.go). It prints the medians of the milestones
// (power-on → API server healthy, → Node Ready) per variant with their ratio, then per node the
// phases with their durations and kiln-agent's own footprint (CPU seconds, peak RSS) as it
// reports it. It prints; it never fails on timing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

func main() {
	dir := flag.String("dir", "", "where images, disks and logs go (default: a temporary directory, removed at the end)")
	kiln := flag.String("kiln", "bin/kiln", "the kiln binary")
	variants := flag.String("variants", "kiln,kubeadm", "the first boots to measure, one cluster each per run: kiln (kiln-agent) and kubeadm (stock kubeadm init/join on the same image)")
	runs := flag.Int("runs", 1, "how many times to boot each variant's cluster; the tables give medians")
	flag.Parse()
	vs, err := parseVariants(*variants)
	if err == nil && *runs < 1 {
		err = fmt.Errorf("--runs %d: want at least 1", *runs)
	}
	if err == nil {
		err = run(*dir, *kiln, vs, *runs)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-firstboot: %v\n", err)
		os.Exit(1)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench-firstboot %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(dir, kiln string, variants []variant, runs int) error {
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
	// The accelerator probe boots a VM of its own once; done now, it is in no measurement.
	progress("QEMU accelerator: %s", harness.DetectAccel())
	images, err := buildImages(ctx, kiln, dir)
	if err != nil {
		return err
	}
	results := map[variant][]clusterBoot{}
	for r := 1; r <= runs; r++ {
		for _, v := range variants {
			progress("run %d of %d: the %s cluster", r, runs, v)
			b, err := bootCluster(ctx, v, images, filepath.Join(dir, fmt.Sprintf("run%d-%s", r, v)))
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r, v, err)
			}
			results[v] = append(results[v], b)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("first boot under QEMU (%s), host: %d cores, load %s", results[variants[0]][0].accel, runtime.NumCPU(), load)
	fmt.Printf("control plane: 2 vCPUs, 3 GiB; worker: 1 vCPU, 2 GiB; both powered on together; %d run(s) per variant\n\n", runs)
	printComparison(os.Stdout, variants, results)
	for _, v := range variants {
		last := results[v][len(results[v])-1]
		fmt.Printf("\n== %s (last run) ==\n", v)
		printReports(os.Stdout, v, []namedReport{{"control plane", last.controlPlane}, {"worker", last.worker}})
	}
	return nil
}

// clusterBoot is one two-node cluster's first boot.
type clusterBoot struct {
	controlPlane, worker report
	accel                string
}

// bootCluster boots a two-node cluster of variant v in dir and reads both nodes' reports.
func bootCluster(ctx context.Context, v variant, images map[string]string, dir string) (clusterBoot, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return clusterBoot{}, err
	}
	o := vmcluster.Options{ControlPlaneImage: images["control-plane"], WorkerImage: images["worker"], Dir: dir}
	if v == variantKubeadm {
		o.ExtraButane = kubeadmButane
	}
	p, err := vmcluster.Prepare(ctx, o)
	if err != nil {
		return clusterBoot{}, err
	}
	defer p.Close()

	ctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()
	cp, err := harness.Launch(ctx, p.ControlPlaneConfig())
	if err != nil {
		return clusterBoot{}, err
	}
	defer powerOff(cp)
	worker, err := harness.Launch(ctx, p.WorkerConfig())
	if err != nil {
		return clusterBoot{}, err
	}
	defer powerOff(worker)
	progress("booted %s and %s under %s; consoles %s, %s", cp.Name(), worker.Name(), cp.Accel(), cp.ConsoleLog(), worker.ConsoleLog())

	client, err := p.Client()
	if err != nil {
		return clusterBoot{}, err
	}
	// Power-on → Node Ready on each VM's own clock, the one its console lines carry.
	vms := map[string]*harness.VM{vmcluster.ControlPlaneName: cp, vmcluster.WorkerName: worker}
	ready := map[string]time.Duration{}
	err = vmcluster.WaitNodesReady(ctx, client, []string{vmcluster.ControlPlaneName, vmcluster.WorkerName}, func(name string) {
		ready[name] = vms[name].Uptime()
		progress("node %s Ready after %s", name, roundDuration(ready[name]))
	})
	if err != nil {
		return clusterBoot{}, err
	}
	b := clusterBoot{accel: cp.Accel()}
	if b.controlPlane, err = readReport(ctx, v, cp); err != nil {
		return clusterBoot{}, err
	}
	if b.worker, err = readReport(ctx, v, worker); err != nil {
		return clusterBoot{}, err
	}
	b.controlPlane.nodeReady, b.worker.nodeReady = ready[vmcluster.ControlPlaneName], ready[vmcluster.WorkerName]
	return b, nil
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

// readReport waits for the first boot of variant v to finish on vm and reads its report from
// the console.
func readReport(ctx context.Context, v variant, vm *harness.VM) (report, error) {
	c := consoleOf(v)
	i, line, err := vm.WaitForAny(ctx, c.complete, c.failed)
	if err != nil {
		return report{}, fmt.Errorf("%s: %w", vm.Name(), err)
	}
	if i != 0 {
		return report{}, fmt.Errorf("%s: %s", vm.Name(), line.Text)
	}
	return parseReport(c, vm.Lines())
}

func powerOff(vm *harness.VM) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := vm.Powerdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench-firstboot: %v\n", err)
	}
	vm.Close()
}
