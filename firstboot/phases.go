package firstboot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kilnproject/kiln/internal/contract/console"
)

// Phase is one step of the first boot.
type Phase struct {
	// Name is kubeadm-style: "preflight", "init/certs", "join/discovery".
	Name string
	// Description says in one line what the phase does; "kiln-agent firstboot --help" and the
	// README's phase table show it.
	Description string
	// Run does the work; it first checks for valid results of an earlier run.
	Run func(ctx context.Context, n *Node) error
	// RunIf decides whether the phase applies to this node; nil means always.
	RunIf func(n *Node) bool
	// Parallel phases run side by side: a run of Parallel phases (phases that do not apply to
	// the node between them do not break it) starts together once the phase before it is
	// done, and the next phase waits for all of them. Only phases that neither need each
	// other's results nor write the same files may be Parallel.
	Parallel bool
}

// What the two kubelet-start phases do.
const kubeletStartDescription = "starts kubelet through systemd (unless it runs already) and waits for its health endpoint"

// Phases is the first boot, in order. Init phases run on a control plane, join phases on a
// worker; the role is known from the config phase on.
func Phases() []Phase {
	cp := (*Node).isControlPlane
	worker := (*Node).isWorker
	return []Phase{
		{Name: "preflight", Run: runPreflight,
			Description: "kubeadm's init or join checks (root, CPUs, memory, ports, free manifests and etcd dirs, ip_forward, CRI, swap, tools, kubelet version and unit), a clock check (not before 2025, not before the cluster CA) and free space on /var"},
		{Name: "config", Run: loadConfig,
			Description: "reads what Ignition wrote under /etc/kiln (node.yaml; cluster.yaml and tokens.yaml on a control plane, bootstrap-token on a worker) and decides the node's name and address"},
		{Name: "images", Run: importImages,
			Description: "imports the baked OCI archives (/usr/lib/kiln/images) into containerd's k8s.io namespace, within a named timeout; nothing is ever pulled"},
		{Name: "init/certs", Run: initCerts, RunIf: cp,
			Description: "the node's leaf certificates from the delivered CAs: API server (SANs with the node's real address), etcd server and peer, the clients"},
		{Name: "init/kubeconfig", Run: initKubeconfigs, RunIf: cp,
			Description: "admin.conf (it stays for the operator), super-admin.conf, kubelet.conf, controller-manager.conf, scheduler.conf"},
		{Name: "init/kubelet-config", Run: initKubeletConfig, RunIf: cp,
			Description: "kubelet's config.yaml (the cluster's KubeletConfiguration) and kubeadm-flags.env (this node's name and address)"},
		{Name: "init/manifests", Run: initManifests, RunIf: cp,
			Description: "the static pods of etcd, kube-apiserver, kube-controller-manager and kube-scheduler"},
		{Name: "init/kubelet-start", Run: startKubelet, RunIf: cp, Description: kubeletStartDescription},
		{Name: "init/wait-control-plane", Run: waitControlPlane, RunIf: cp,
			Description: "waits for the API server (/readyz?verbose with super-admin.conf, like kubeadm; the progress lines name the checks still failing), for as long as it takes; then wait-controllers, cluster-objects, mark-control-plane and pod-network run side by side"},
		{Name: "init/wait-controllers", Run: waitControllers, RunIf: cp, Parallel: true,
			Description: "waits for the controller manager and the scheduler to answer their health endpoints"},
		{Name: "init/cluster-objects", Run: applyClusterObjects, RunIf: cp, Parallel: true,
			Description: "token Secrets, cluster-info, RBAC, kubeadm-config, kubelet-config, CoreDNS, kube-proxy; retried with backoff while the API server does not answer (refused, cut off, timed out, 429/5xx)"},
		{Name: "init/mark-control-plane", Run: markControlPlane, RunIf: cp, Parallel: true,
			Description: "waits for kubelet to register the Node, then gives it the control-plane label and taint"},
		{Name: "join/discovery", Run: joinDiscovery, RunIf: worker,
			Description: "token discovery with the CA pin, retried with backoff while the control plane is not up yet (or file discovery with a delivered CA); bootstrap-kubelet.conf"},
		{Name: "join/kubelet-config", Run: joinKubeletConfig, RunIf: worker,
			Description: "kubelet's config.yaml from kube-system/kubelet-config, and kubeadm-flags.env"},
		{Name: "join/kubelet-start", Run: startKubelet, RunIf: worker, Description: kubeletStartDescription},
		{Name: "join/wait-node", Run: waitNodeJoined, RunIf: worker,
			Description: "waits for kubelet's TLS bootstrap (kubelet.conf with a signed certificate) and the Node it registers"},
		{Name: "pod-network", Run: configurePodNetwork, Parallel: true,
			Description: "waits for the Node's pod CIDR and writes " + CNIConfigPath + " (on a control plane side by side with the three phases above it)"},
		{Name: "handoff", Run: handoff,
			Description: "starts " + RoutesUnit + " and writes the completion stamp " + DoneStamp},
	}
}

// ErrUnknownPhase means a phase name given to Skip is not in the list.
var ErrUnknownPhase = errors.New("no such phase")

// Skip returns phases without the ones named, like kubeadm's --skip-phases; a host run that
// can do without a node's machinery (preflight, images, ...) uses it. Every name must be a
// phase of the list.
func Skip(phases []Phase, names ...string) ([]Phase, error) {
	skip := map[string]bool{}
	for _, name := range names {
		if !slices.ContainsFunc(phases, func(p Phase) bool { return p.Name == name }) {
			return nil, fmt.Errorf("skip %q: %w", name, ErrUnknownPhase)
		}
		skip[name] = true
	}
	var out []Phase
	for _, p := range phases {
		if !skip[p.Name] {
			out = append(out, p)
		}
	}
	return out, nil
}

// ErrPhase wraps the error of the phase that stopped the first boot.
var ErrPhase = errors.New("first boot stopped")

// Run runs phases in order, a run of Parallel phases side by side, recording progress in the
// status file, the journal and on the console. It stops at the first failing phase; the
// phases running beside it are cancelled and waited for.
func Run(ctx context.Context, n *Node, phases []Phase) error {
	st := newStatus(n, phases)
	start := n.now()
	n.say("[kiln] first boot: %d phases", len(phases))
	for i := 0; i < len(phases); {
		var group []int
		group, i = nextGroup(n, st, phases, i)
		if err := runGroup(ctx, n, st, phases, group); err != nil {
			return err
		}
	}
	total := n.now().Sub(start)
	var fp *Footprint
	if f, err := measureFootprint(); err != nil {
		n.Log.Warn("agent footprint unknown", "error", err.Error())
	} else {
		fp = &f
		n.report(slog.LevelInfo, fmt.Sprintf("[kiln] agent footprint: %s", f),
			"agent footprint", "cpu_seconds", f.CPUSeconds, "peak_rss_mib", f.PeakRSSMiB, "programs_cpu_seconds", f.ProgramsCPUSeconds)
	}
	st.complete(fp)
	n.say(console.FirstbootComplete+"%s: kubelet keeps the node", round(total))
	return nil
}

// nextGroup returns the indexes of the phases to run next, from i on, and the index after
// them: the next phase that applies to n and, when it is Parallel, every Parallel phase after
// it up to the next one that applies and is not. Phases that do not apply are marked skipped.
// It decides when the group is due, so that RunIf sees what the phases before it learnt.
func nextGroup(n *Node, st *status, phases []Phase, i int) ([]int, int) {
	var group []int
	for ; i < len(phases); i++ {
		p := phases[i]
		if p.RunIf != nil && !p.RunIf(n) {
			st.skip(i)
			continue
		}
		if len(group) > 0 && !(p.Parallel && phases[group[0]].Parallel) {
			break
		}
		group = append(group, i)
		if !p.Parallel {
			return group, i + 1
		}
	}
	return group, i
}

// runGroup runs the phases at the indexes of group side by side (one phase: just it) and
// returns the first failure, as ErrPhase, once every phase of the group has returned.
func runGroup(ctx context.Context, n *Node, st *status, phases []Phase, group []int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed = -1
		first  error
	)
	for _, i := range group {
		p := phases[i]
		wg.Go(func() {
			took, err := runPhase(ctx, n, st, i, len(phases), p)
			if err == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if failed >= 0 { // stopped because the phase beside it failed
				st.cancelled(i)
				n.Log.Info("phase cancelled", "phase", p.Name, "after", phases[failed].Name, "error", err.Error())
				return
			}
			failed, first = i, err
			cancel()
			st.fail(i, err)
			n.report(slog.LevelError, fmt.Sprintf("[%s"+console.FirstbootFailed+"%s: %v", p.Name, round(took), err),
				"phase failed", "phase", p.Name, "duration", took.Round(time.Millisecond).String(), "error", err.Error())
		})
	}
	wg.Wait()
	if failed < 0 {
		return nil
	}
	name := phases[failed].Name
	n.reportContainers(context.WithoutCancel(ctx))
	n.say(console.FirstbootStopped+"%s (kiln-agent status; journalctl -u kiln-firstboot)", name)
	return fmt.Errorf("%w in phase %s: %w", ErrPhase, name, first)
}

// runPhase runs phase p, the i-th of total, and records its start and its success; a failure
// is its group's to record.
func runPhase(ctx context.Context, n *Node, st *status, i, total int, p Phase) (time.Duration, error) {
	st.begin(i)
	n.Log.Info("phase started", "phase", p.Name, "step", i+1, "of", total)
	t0 := n.now()
	err := p.Run(ctx, n)
	took := n.now().Sub(t0)
	if err != nil {
		return took, err
	}
	// What the phase wrote is on disk before the next one starts: after a power cut the rerun
	// finds whole results, never half-written ones.
	unix.Sync()
	st.finish(i, took)
	n.report(slog.LevelInfo, fmt.Sprintf("[%s] done in %s", p.Name, round(took)),
		"phase done", "phase", p.Name, "duration", took.Round(time.Millisecond).String())
	return took, nil
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
