package hostcontrolplane

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/kilnproject/kiln/firstboot"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/testkit/fakesystemd"
)

// Defaults of Options.
const (
	// DefaultAdvertiseAddress is the node's address on its "cluster network": a loopback address
	// other than 127.0.0.1, so that etcd's two client listeners (127.0.0.1 and the advertise
	// address) stay distinct.
	DefaultAdvertiseAddress = "127.0.0.2"
	// DefaultNodeName is the control-plane node's name.
	DefaultNodeName = "cp-1"
	// DefaultStartTimeout bounds Start when its context has no deadline.
	DefaultStartTimeout = 4 * time.Minute
)

// HostSkippedPhases are the first-boot phases a host run skips, as kubeadm's --skip-phases
// would: preflight checks the machine (root, ports, a CRI), images needs containerd, and
// mark-control-plane, pod-network and handoff wait for or act on a Node object and routes that
// only a real kubelet and node would give.
var HostSkippedPhases = []string{"preflight", "images", "init/mark-control-plane", "pod-network", "handoff"}

// Options are the inputs of Start.
type Options struct {
	// BinDir holds the pinned binaries (see BinDirFromEnv).
	BinDir string
	// WorkDir receives the cluster directory ("cluster"), the node's root ("node") and the
	// components' logs ("logs"). It must not hold an earlier control plane's files.
	WorkDir string
	// AdvertiseAddress is the loopback address the API server advertises; default
	// DefaultAdvertiseAddress.
	AdvertiseAddress string
	// NodeName is the control-plane node's name; default DefaultNodeName.
	NodeName string
	// Logf receives progress lines, the agent's console lines among them; default none.
	Logf func(format string, args ...any)
}

// ControlPlane is a running control plane made by kiln's first boot, plus what its operator
// holds.
type ControlPlane struct {
	Config   *config.Config  // the cluster configuration, with the endpoint below
	Dir      *clusterdir.Dir // the operator's cluster directory
	Tokens   []*token.Token  // the cluster's bootstrap tokens (at least one)
	CAPin    string          // "sha256:<hex>" pin of the cluster CA
	Endpoint string          // host:port of the API server
	NodeName string          // the control-plane node's name
	NodeRoot string          // stands in for the node's "/"
	BinDir   string          // the pinned binaries
	LogDir   string          // one <component>.log per process, and the agent's agent.log
	// Node is the first boot's node, as the phases left it (name, address, configuration).
	Node *firstboot.Node

	logf     func(format string, args ...any)
	ports    map[int]int // the node's fixed port -> free loopback port
	agentLog *os.File

	mu       sync.Mutex
	procs    []*process // newest last
	healthz  *http.Server
	stopping bool
	stopOnce sync.Once
}

// Start sets up a cluster and its first control-plane node under o.WorkDir and runs the
// node's first boot (without HostSkippedPhases) until its control plane is healthy and the
// cluster objects are applied. Without a deadline on ctx it waits at most
// DefaultStartTimeout. On error, every process it started has been stopped again; otherwise
// the caller must call Stop.
func Start(ctx context.Context, o Options) (*ControlPlane, error) {
	o.complete()
	if err := CheckBinDir(o.BinDir); err != nil {
		return nil, err
	}
	ports, err := freePorts(7)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{
		Endpoint: net.JoinHostPort(o.AdvertiseAddress, strconv.Itoa(ports[0])),
		NodeName: o.NodeName,
		NodeRoot: filepath.Join(o.WorkDir, "node"),
		BinDir:   o.BinDir,
		LogDir:   filepath.Join(o.WorkDir, "logs"),
		logf:     o.Logf,
		ports: map[int]int{
			kubeadm.EtcdClientPort:        ports[1],
			kubeadm.EtcdPeerPort:          ports[2],
			kubeadm.EtcdMetricsPort:       ports[3],
			kubeadm.ControllerManagerPort: ports[4],
			kubeadm.SchedulerPort:         ports[5],
			kubeadm.KubeletHealthzPort:    ports[6],
		},
	}
	if err := cp.createCluster(filepath.Join(o.WorkDir, "cluster"), o.AdvertiseAddress, ports[0]); err != nil {
		return nil, err
	}
	if err := cp.deliver(o.AdvertiseAddress); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cp.LogDir, 0o755); err != nil {
		return nil, err
	}
	if cp.agentLog, err = os.Create(filepath.Join(cp.LogDir, "agent.log")); err != nil {
		return nil, err
	}
	cp.Node = &firstboot.Node{
		Root:    cp.NodeRoot,
		Systemd: fakesystemd.New(map[string]fakesystemd.StartFunc{firstboot.KubeletUnit: cp.startKubelet}),
		Log:     slog.New(slog.NewTextHandler(cp.agentLog, nil)),
		Console: lineWriter(cp.logf),
		Ports:   cp.ports,
	}
	phases, err := firstboot.Skip(firstboot.Phases(), HostSkippedPhases...)
	if err != nil {
		cp.Stop()
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	if err := firstboot.Run(ctx, cp.Node, phases); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (o *Options) complete() {
	if o.AdvertiseAddress == "" {
		o.AdvertiseAddress = DefaultAdvertiseAddress
	}
	if o.NodeName == "" {
		o.NodeName = DefaultNodeName
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// RunPhases runs the named first-boot phases again on the control-plane node, in the order of
// firstboot.Phases, as the agent's rerun after an interruption would; console receives their
// lines (nil: Options.Logf).
func (cp *ControlPlane) RunPhases(ctx context.Context, console io.Writer, names ...string) error {
	want := map[string]bool{}
	for _, name := range names {
		want[name] = true
	}
	var skip []string
	for _, p := range firstboot.Phases() {
		if want[p.Name] {
			delete(want, p.Name)
		} else {
			skip = append(skip, p.Name)
		}
	}
	for name := range want {
		return fmt.Errorf("run phase %q: %w", name, firstboot.ErrUnknownPhase)
	}
	phases, err := firstboot.Skip(firstboot.Phases(), skip...)
	if err != nil {
		return err
	}
	n := *cp.Node
	if console != nil {
		n.Console = console
	}
	return firstboot.Run(ctx, &n, phases)
}

// lineWriter passes each line written to it to logf.
type lineWriter func(format string, args ...any)

func (w lineWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		w("%s", line)
	}
	return len(p), nil
}

// freePorts asks the kernel for n distinct unused loopback ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close() // held open until all are chosen, so none repeats
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
