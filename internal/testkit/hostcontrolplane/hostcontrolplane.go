package hostcontrolplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
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
	// Logf receives progress lines; default none.
	Logf func(format string, args ...any)
}

// ControlPlane is a running control plane made by kiln, plus what its operator holds.
type ControlPlane struct {
	Config   *config.Config  // the cluster configuration, with the endpoint below
	Dir      *clusterdir.Dir // the operator's cluster directory
	Tokens   []*token.Token  // the cluster's bootstrap tokens (at least one)
	CAPin    string          // "sha256:<hex>" pin of the cluster CA
	Endpoint string          // host:port of the API server
	NodeName string          // the control-plane node's name
	NodeRoot string          // stands in for the node's "/"
	BinDir   string          // the pinned binaries
	LogDir   string          // one <component>.log per process

	logf     func(format string, args ...any)
	ports    map[int]int // manifest port -> free loopback port
	procs    []*exec.Cmd // newest last
	stopOnce sync.Once
}

// Start sets up a cluster and its first control-plane node under o.WorkDir and runs etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler until each is healthy. Without a
// deadline on ctx it waits at most DefaultStartTimeout. On error, every process it started has
// been stopped again; otherwise the caller must call Stop.
func Start(ctx context.Context, o Options) (*ControlPlane, error) {
	o.complete()
	if err := CheckBinDir(o.BinDir); err != nil {
		return nil, err
	}
	ports, err := freePorts(6)
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
		},
	}
	if err := cp.createCluster(filepath.Join(o.WorkDir, "cluster"), o.AdvertiseAddress, ports[0]); err != nil {
		return nil, err
	}
	pods, err := cp.renderNode(o.AdvertiseAddress)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	if err := cp.run(ctx, pods); err != nil {
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

// run starts the components in the order a kubelet would get them healthy: etcd, then the API
// server, then the controller manager and the scheduler.
func (cp *ControlPlane) run(ctx context.Context, pods []*corev1.Pod) error {
	etcd, apiserver, kcm, scheduler := pods[0], pods[1], pods[2], pods[3]
	if err := cp.startProcess(etcd); err != nil {
		return err
	}
	if err := cp.waitHealthy(ctx, etcd); err != nil {
		return err
	}
	if err := cp.startProcess(apiserver); err != nil {
		return err
	}
	if err := cp.waitHealthy(ctx, apiserver); err != nil {
		return err
	}
	// Their manifests leave --secure-port at its default; on the host it must be a free port.
	if err := cp.startProcess(kcm, "--secure-port="+strconv.Itoa(cp.ports[kubeadm.ControllerManagerPort])); err != nil {
		return err
	}
	if err := cp.startProcess(scheduler, "--secure-port="+strconv.Itoa(cp.ports[kubeadm.SchedulerPort])); err != nil {
		return err
	}
	return errors.Join(cp.waitHealthy(ctx, kcm), cp.waitHealthy(ctx, scheduler))
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
