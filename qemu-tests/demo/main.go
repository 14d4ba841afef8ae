// Command demo is "make demo": it builds a control-plane image and a worker image with kiln,
// boots them in QEMU on this machine, waits for the cluster, shows it, and keeps it running
// until Ctrl-C (or "make demo-stop"), then powers both VMs off.
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
	"strconv"
	"syscall"
	"time"

	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

func main() {
	dir := flag.String("dir", filepath.Join(os.Getenv("HOME"), ".cache", "kiln", "demo"), "where the images, disks, cluster directory and logs go")
	kiln := flag.String("kiln", "bin/kiln", "the kiln binary")
	kubectl := flag.String("kubectl", "kubectl", "the kubectl binary")
	apiPort := flag.Int("api-port", 6443, "host port on 127.0.0.1 forwarded to the API server")
	flag.Parse()
	if err := run(*dir, *kiln, *kubectl, *apiPort); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Printf("[demo %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(dir, kiln, kubectl string, apiPort int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := os.RemoveAll(filepath.Join(dir, "run")); err != nil {
		return err
	}
	runDir := filepath.Join(dir, "run")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	pidFile := filepath.Join(dir, "demo.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)

	images := map[string]string{}
	for _, profile := range []string{"control-plane", "worker"} {
		out := filepath.Join(dir, "images", profile)
		say("building the %s image (kiln build --profile profiles/%s.yaml --format raw)", profile, profile)
		cmd := exec.CommandContext(ctx, kiln, "build", "--profile", "profiles/"+profile+".yaml", "--out", out, "--format", "raw", "-q")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kiln build %s: %w", profile, err)
		}
		images[profile] = filepath.Join(out, profile+".raw")
	}

	p, err := vmcluster.Prepare(ctx, vmcluster.Options{
		ControlPlaneImage: images["control-plane"], WorkerImage: images["worker"], Dir: runDir, APIPort: apiPort,
	})
	if err != nil {
		return err
	}
	defer p.Close() // the cluster network's hub runs in this process
	say("cluster directory %s (its CAs and admin.conf; kiln ignition made both nodes' configs from it)", p.Cluster.Path)
	cp, err := harness.Launch(ctx, p.ControlPlaneConfig())
	if err != nil {
		return err
	}
	defer powerOff(cp)
	worker, err := harness.Launch(ctx, p.WorkerConfig())
	if err != nil {
		return err
	}
	defer powerOff(worker)
	say("booted %s (pid %d, console %s) and %s (pid %d, console %s) under %s",
		cp.Name(), cp.PID(), cp.ConsoleLog(), worker.Name(), worker.PID(), worker.ConsoleLog(), cp.Accel())
	go echoAgent(ctx, cp)
	go echoAgent(ctx, worker)

	client, err := p.Client()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := vmcluster.WaitNodesReady(ctx, client, []string{vmcluster.ControlPlaneName, vmcluster.WorkerName}, func(name string) {
		say("node %s is Ready (%s after power-on)", name, time.Since(start).Round(time.Second))
	}); err != nil {
		return err
	}
	if err := vmcluster.WaitCoreDNS(ctx, client); err != nil {
		return err
	}
	say("CoreDNS is Ready")
	out, _ := exec.Command(kubectl, "--kubeconfig", p.Kubeconfig, "get", "nodes", "-o", "wide").CombinedOutput()
	fmt.Printf("\n$ kubectl get nodes -o wide\n%s\n", out)
	fmt.Printf(`The cluster runs in two QEMU VMs on this machine. To use it:

    export KUBECONFIG=%s
    %s get pods -A

To stop it: press Ctrl-C here, or run "make demo-stop" in another terminal
(both power the VMs off cleanly). Console logs: %s, %s.
`, p.Kubeconfig, kubectl, cp.ConsoleLog(), worker.ConsoleLog())
	select {
	case <-ctx.Done():
	case <-cp.Exited():
		return fmt.Errorf("the control-plane VM stopped")
	case <-worker.Exited():
		return fmt.Errorf("the worker VM stopped")
	}
	say("stopping: powering off both VMs")
	return nil
}

// echoAgent prints the agent's phase lines from a VM's console.
func echoAgent(ctx context.Context, vm *harness.VM) {
	phase := regexp.MustCompile(`kiln-agent\[\d+\]: \[`) // every line the agent prints for people
	from := 0
	for {
		_, line, err := vm.WaitForFrom(ctx, from, phase)
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-vm.Exited():
				return
			default:
				continue // a quiet console: the wait's default timeout, not an end
			}
		}
		from = line.N + 1
		fmt.Printf("  %-8s %s\n", vm.Name(), line.Text)
	}
}

func powerOff(vm *harness.VM) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := vm.Powerdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
	}
	vm.Close()
}
