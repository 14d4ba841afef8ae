package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testimage.Cleanup()
	os.Exit(code)
}

// Console lines of kiln-agent.
var (
	firstbootDone = regexp.MustCompile(regexp.QuoteMeta(console.FirstbootComplete))
	firstbootFail = regexp.MustCompile(`\[[a-z/-]+` + regexp.QuoteMeta(console.FirstbootFailed))
	// The agent's last line after a failure, once it reported the node's containers.
	firstbootStopped = regexp.MustCompile(regexp.QuoteMeta(console.FirstbootStopped))
	apiserverUp      = regexp.MustCompile(`\[wait\] kube-apiserver healthy`)
	kubeletUp        = regexp.MustCompile(`\[init/kubelet-start\] done`)
)

// waitFirstboot waits for the agent to finish on vm; a failed phase fails the test at once.
func waitFirstboot(ctx context.Context, t *testing.T, vm *harness.VM) {
	t.Helper()
	i, line, err := vm.WaitForAny(ctx, firstbootDone, firstbootFail)
	if err != nil {
		t.Fatal(why(ctx, err))
	}
	if i != 0 {
		t.Fatalf("vm %s: %s", vm.Name(), line.Text)
	}
}

// watchAgents returns a context that ends as soon as kiln-agent on one of vms reports a failed
// phase, with that line and the agent's report (the node's containers and the log tails of
// exited ones) as its cause, so that a test waiting on the cluster stops then rather than at
// its deadline. Its cancel func stops the watching.
func watchAgents(ctx context.Context, vms ...*harness.VM) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	for _, vm := range vms {
		go func() {
			failed, err := vm.WaitFor(ctx, firstbootFail)
			if err != nil {
				return
			}
			// The report follows the failure line; under TCG crictl takes a while.
			reportCtx, stop := context.WithTimeout(ctx, 2*time.Minute)
			_, _, _ = vm.WaitForFrom(reportCtx, failed.N, firstbootStopped)
			stop()
			var report []string
			for _, l := range vm.Lines()[failed.N:] {
				report = append(report, l.String())
			}
			cancel(fmt.Errorf("vm %s: %s\nthe console from there:\n%s", vm.Name(), failed.Text, strings.Join(report, "\n")))
		}()
	}
	return ctx, func() { cancel(nil) }
}

// why is err, unless ctx ended early because an agent failed: then that failure.
func why(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return err
}

func kubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, err := runKubectl(kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func runKubectl(kubeconfig string, args ...string) (string, error) {
	bin := os.Getenv("KILN_K8S_BIN")
	if bin == "" {
		return "", errors.New("KILN_K8S_BIN is not set: make test sets it")
	}
	out, err := exec.Command(filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", kubeconfig, "--request-timeout", "20s"}, args...)...).CombinedOutput()
	return string(out), err
}

// reportClusterOnFailure logs, when the test failed and the API server still answers, what
// the cluster shows of itself: the nodes, every pod with its restarts, the certificate
// requests, the controller manager's log (its previous run's too), which approves and signs
// joins and gives pod CIDRs, and CoreDNS's logs, which name a failed lookup's cause. Call it
// after the VMs started: it runs before they stop.
func reportClusterOnFailure(t *testing.T, p *vmcluster.Plan) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		kcm := "kube-controller-manager-" + vmcluster.ControlPlaneName
		for _, args := range [][]string{
			{"get", "nodes", "-o", "wide"},
			{"get", "pods", "--all-namespaces", "-o", "wide"},
			{"get", "csr"},
			{"--namespace", "kube-system", "logs", kcm, "--previous", "--tail", "20"},
			{"--namespace", "kube-system", "logs", kcm, "--tail", "20"},
			{"--namespace", "kube-system", "logs", "--selector", "k8s-app=kube-dns", "--prefix", "--tail", "20"},
		} {
			out, err := runKubectl(p.Kubeconfig, args...)
			if err != nil {
				out += err.Error()
			}
			t.Logf("kubectl %s:\n%s", strings.Join(args, " "), out)
		}
	})
}

func prepare(t *testing.T, withWorker bool) *vmcluster.Plan {
	t.Helper()
	o := vmcluster.Options{ControlPlaneImage: testimage.ControlPlane(t).Raw, Dir: t.TempDir()}
	if withWorker {
		o.WorkerImage = testimage.Worker(t).Raw
	}
	p, err := vmcluster.Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestTwoNodeCluster is the gate: a control plane (Ignition by fw_cfg) and a worker (Ignition
// by config drive) on a VM-to-VM link form a cluster. Through the forwarded API port, kubectl
// with admin.conf shows both nodes Ready, CoreDNS becomes Ready, and a pod on the worker
// resolves kubernetes.default and reaches the API through its Service IP.
func TestTwoNodeCluster(t *testing.T) {
	harness.RequireVM(t)
	p := prepare(t, true)
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	cpStart := time.Now()
	cp := harness.Start(t, p.ControlPlaneConfig())
	workerStart := time.Now()
	worker := harness.Start(t, p.WorkerConfig())
	reportClusterOnFailure(t, p)
	ctx, stop := watchAgents(ctx, cp, worker)
	defer stop()

	line, err := cp.WaitFor(ctx, apiserverUp)
	if err != nil {
		t.Fatal(why(ctx, err))
	}
	apiReady := line.Time
	client, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	readyAt := map[string]time.Duration{}
	err = vmcluster.WaitNodesReady(ctx, client, []string{vmcluster.ControlPlaneName, vmcluster.WorkerName}, func(name string) {
		if name == vmcluster.ControlPlaneName {
			readyAt[name] = time.Since(cpStart)
		} else {
			readyAt[name] = time.Since(workerStart)
		}
		t.Logf("node %s Ready", name)
	})
	if err != nil {
		t.Fatal(why(ctx, err))
	}
	waitFirstboot(ctx, t, cp)
	waitFirstboot(ctx, t, worker)
	t.Logf("timings: control plane power-on → apiserver ready %s, → Node Ready %s; worker power-on → Node Ready %s",
		apiReady.Round(time.Second), readyAt[vmcluster.ControlPlaneName].Round(time.Second), readyAt[vmcluster.WorkerName].Round(time.Second))

	out := kubectl(t, p.Kubeconfig, "get", "nodes", "-o", "wide")
	t.Logf("kubectl get nodes -o wide:\n%s", out)
	for _, name := range []string{vmcluster.ControlPlaneName, vmcluster.WorkerName} {
		if !regexp.MustCompile(`(?m)^` + name + `\s+Ready\s`).MatchString(out) {
			t.Errorf("kubectl does not show %s Ready", name)
		}
	}
	if err := vmcluster.WaitCoreDNS(ctx, client); err != nil {
		t.Fatal(why(ctx, err))
	}
	logs, err := vmcluster.NetcheckPod(ctx, client, vmcluster.WorkerName, t.Logf)
	t.Logf("netcheck on %s:\n%s", vmcluster.WorkerName, logs)
	if err != nil {
		t.Fatal(why(ctx, err))
	}
	if !strings.Contains(logs, "resolves to 10.96.0.1") || !strings.Contains(logs, "answers: Kubernetes v1.36.3") {
		t.Errorf("netcheck did not resolve and reach the API through 10.96.0.1")
	}
	for _, vm := range []*harness.VM{worker, cp} {
		if err := vm.Powerdown(ctx); err != nil {
			t.Errorf("power off %s: %v", vm.Name(), err)
		}
	}
}

// TestInterruptedInit cuts the control plane's power in the middle of init, after kubelet
// started, and shows that its next boot completes the cluster.
func TestInterruptedInit(t *testing.T) {
	harness.RequireVM(t)
	p := prepare(t, false)
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	first := harness.Start(t, p.ControlPlaneConfig())
	firstCtx, stopFirst := watchAgents(ctx, first)
	_, err := first.WaitFor(firstCtx, kubeletUp)
	stopFirst()
	if err != nil {
		t.Fatal(why(firstCtx, err))
	}
	if err := first.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("power cut after kubelet started")
	p.KeepUEFIVars(first)
	first.Close()

	cfg := p.ControlPlaneConfig()
	cfg.Name = "cp-1-again"
	second := harness.Start(t, cfg)
	reportClusterOnFailure(t, p)
	ctx, stop := watchAgents(ctx, second)
	defer stop()
	if _, err := second.WaitFor(ctx, regexp.MustCompile(`continuing an interrupted first boot`)); err != nil {
		t.Fatal(why(ctx, err))
	}
	waitFirstboot(ctx, t, second)
	client, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := vmcluster.WaitNodesReady(ctx, client, []string{vmcluster.ControlPlaneName}, nil); err != nil {
		t.Fatal(why(ctx, err))
	}
	if err := vmcluster.WaitCoreDNS(ctx, client); err != nil {
		t.Fatal(why(ctx, err))
	}
	t.Logf("kubectl get nodes:\n%s", kubectl(t, p.Kubeconfig, "get", "nodes", "-o", "wide"))
	if err := second.Powerdown(ctx); err != nil {
		t.Errorf("power off: %v", err)
	}
}
