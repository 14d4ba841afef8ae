package firstboot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kilnproject/kiln/internal/contract/console"
	"golang.org/x/sys/unix"
)

// Phase is one step of the first boot.
type Phase struct {
	// Name is kubeadm-style: "preflight", "init/certs", "join/discovery".
	Name string
	// Run does the work; it first checks for valid results of an earlier run.
	Run func(ctx context.Context, n *Node) error
	// RunIf decides whether the phase applies to this node; nil means always.
	RunIf func(n *Node) bool
}

// Phases is the first boot, in order. Init phases run on a control plane, join phases on a
// worker; the role is known from the config phase on.
func Phases() []Phase {
	cp := (*Node).isControlPlane
	worker := (*Node).isWorker
	return []Phase{
		{Name: "preflight", Run: runPreflight},
		{Name: "config", Run: loadConfig},
		{Name: "images", Run: importImages},
		{Name: "init/certs", Run: initCerts, RunIf: cp},
		{Name: "init/kubeconfig", Run: initKubeconfigs, RunIf: cp},
		{Name: "init/kubelet-config", Run: initKubeletConfig, RunIf: cp},
		{Name: "init/manifests", Run: initManifests, RunIf: cp},
		{Name: "init/kubelet-start", Run: startKubelet, RunIf: cp},
		{Name: "init/wait-control-plane", Run: waitControlPlane, RunIf: cp},
		{Name: "init/cluster-objects", Run: applyClusterObjects, RunIf: cp},
		{Name: "init/mark-control-plane", Run: markControlPlane, RunIf: cp},
		{Name: "join/discovery", Run: joinDiscovery, RunIf: worker},
		{Name: "join/kubelet-config", Run: joinKubeletConfig, RunIf: worker},
		{Name: "join/kubelet-start", Run: startKubelet, RunIf: worker},
		{Name: "join/wait-node", Run: waitNodeJoined, RunIf: worker},
		{Name: "pod-network", Run: configurePodNetwork},
		{Name: "handoff", Run: handoff},
	}
}

// ErrPhase wraps the error of the phase that stopped the first boot.
var ErrPhase = errors.New("first boot stopped")

// Run runs phases in order, recording progress in the status file, the journal and on the
// console. It stops at the first failing phase.
func Run(ctx context.Context, n *Node, phases []Phase) error {
	st := newStatus(n, phases)
	start := n.now()
	n.say("[kiln] first boot: %d phases", len(phases))
	for i, p := range phases {
		if p.RunIf != nil && !p.RunIf(n) {
			st.skip(i)
			continue
		}
		st.begin(i)
		n.Log.Info("phase started", "phase", p.Name, "step", i+1, "of", len(phases))
		t0 := n.now()
		err := p.Run(ctx, n)
		took := n.now().Sub(t0)
		if err != nil {
			st.fail(i, err)
			n.Log.Error("phase failed", "phase", p.Name, "duration", took.Round(time.Millisecond).String(), "error", err.Error())
			n.say("[%s"+console.FirstbootFailed+"%s: %v", p.Name, round(took), err)
			n.reportContainers(ctx)
			n.say(console.FirstbootStopped+"%s (kiln-agent status; journalctl -u kiln-firstboot)", p.Name)
			return fmt.Errorf("%w in phase %s: %w", ErrPhase, p.Name, err)
		}
		// What the phase wrote is on disk before the next one starts: after a power cut the
		// rerun finds whole results, never half-written ones.
		unix.Sync()
		st.finish(i, took)
		n.Log.Info("phase done", "phase", p.Name, "duration", took.Round(time.Millisecond).String())
		n.say("[%s] done in %s", p.Name, round(took))
	}
	total := n.now().Sub(start)
	var fp *Footprint
	if f, err := measureFootprint(); err != nil {
		n.Log.Warn("agent footprint unknown", "error", err.Error())
	} else {
		fp = &f
		n.Log.Info("agent footprint", "cpu_seconds", f.CPUSeconds, "peak_rss_mib", f.PeakRSSMiB, "programs_cpu_seconds", f.ProgramsCPUSeconds)
		n.say("[kiln] agent footprint: %s", f)
	}
	st.complete(fp)
	n.say(console.FirstbootComplete+"%s: kubelet keeps the node", round(total))
	return nil
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
