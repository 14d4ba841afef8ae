package vmcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/qemu-tests/harness"
)

// The cluster network on the VM-to-VM link.
const (
	ControlPlaneName = "cp-1"
	ControlPlaneIP   = "192.168.100.10"
	ControlPlaneMAC  = "52:54:00:6b:00:10"
	WorkerName       = "worker-1"
	WorkerIP         = "192.168.100.11"
	WorkerMAC        = "52:54:00:6b:00:11"
	prefixLen        = 24
	apiPort          = 6443
	// guestDNS is where the nodes' resolv.conf points: slirp's DNS address, which restrict=on
	// answers nothing at. CoreDNS needs a nameserver to forward to, not an answer.
	guestDNS = "10.0.2.3"
)

// Options say where the images are and where the cluster's files go.
type Options struct {
	ControlPlaneImage string // a raw control-plane image
	WorkerImage       string // a raw worker image
	// Dir holds the cluster directory, the Ignition configs, the disks and the logs.
	Dir string
	// APIPort is the host port (on 127.0.0.1) forwarded to the control plane's API; 0 picks one.
	APIPort int
	// DiskSize is each node's disk (VAR grows into it); default 8 GiB.
	DiskSize int64
	// ExtraButane, if set, gives a further Butane snippet for a node of the plan (its role,
	// name and address on the cluster network), merged with the node's network snippet.
	ExtraButane func(p *Plan, role nodeconfig.Role, name, ip string) ([]byte, error)
}

// Plan is a prepared cluster: identity, configs and disks, before any VM runs.
type Plan struct {
	Options
	Cluster *clusterdir.Dir
	// Kubeconfig is admin.conf with the server at the forwarded port, for kubectl on the host.
	Kubeconfig string
	cpIgnition string
	workerISO  string
	cpDisk     string
	workerDisk string
	cpVars     string
	hub        *harness.Hub
	link       [2]harness.Link // the control plane's and the worker's
}

// slowMachineLeaderElection gives the controller manager and the scheduler a 60 s lease with a
// 40 s renew deadline instead of 15 s and 10 s. A control plane under TCG, with other VMs on the
// same two cores, answers some requests after more than 10 s. In make test the controller
// manager then went quiet for minutes after it had worked (no CSR approved, no pod CIDR given,
// cluster-info unsigned); losing its lease, exiting, and waiting out kubelet's crash-loop
// backoff is the likely cause. Set through the cluster's extraArgs, as an operator would on slow
// hardware; kiln's defaults stay kubeadm's.
var slowMachineLeaderElection = []config.Arg{
	{Name: "leader-elect-lease-duration", Value: "60s"},
	{Name: "leader-elect-renew-deadline", Value: "40s"},
}

// Prepare makes the cluster directory, the nodes' Ignition configs, a config drive for the
// worker, a disk overlay per node and the hub of the cluster network. Close stops the hub.
func Prepare(ctx context.Context, o Options) (p *Plan, err error) {
	if o.DiskSize == 0 {
		o.DiskSize = 8 << 30
	}
	if o.APIPort == 0 {
		port, err := harness.FreePort()
		if err != nil {
			return nil, err
		}
		o.APIPort = port
	}
	p = &Plan{Options: o}
	if p.hub, err = harness.NewHub(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	cfg := config.Default()
	cfg.Cluster.ClusterName = "kiln"
	cfg.Cluster.ControlPlaneEndpoint = ControlPlaneIP + ":" + strconv.Itoa(apiPort)
	// The host reaches the API through a forward to 127.0.0.1.
	cfg.Cluster.APIServer.CertSANs = []string{"127.0.0.1"}
	cfg.Cluster.ControllerManager.ExtraArgs = append(cfg.Cluster.ControllerManager.ExtraArgs, slowMachineLeaderElection...)
	cfg.Cluster.Scheduler.ExtraArgs = append(cfg.Cluster.Scheduler.ExtraArgs, slowMachineLeaderElection...)
	if p.Cluster, err = clusterdir.Create(filepath.Join(o.Dir, "cluster"), cfg, time.Now()); err != nil {
		return nil, err
	}
	cpIgn, err := p.NodeIgnition(nodeconfig.RoleControlPlane, ControlPlaneName, ControlPlaneMAC, ControlPlaneIP)
	if err != nil {
		return nil, err
	}
	p.cpIgnition = filepath.Join(o.Dir, "cp-1.ign")
	if err := atomicfile.WriteFile(p.cpIgnition, cpIgn, 0o600); err != nil {
		return nil, err
	}
	workerIgn, err := p.NodeIgnition(nodeconfig.RoleWorker, WorkerName, WorkerMAC, WorkerIP)
	if err != nil {
		return nil, err
	}
	if p.workerISO, err = configDrive(filepath.Join(o.Dir, "worker-1-config"), workerIgn); err != nil {
		return nil, err
	}
	p.cpDisk, p.workerDisk = filepath.Join(o.Dir, "cp-1.qcow2"), filepath.Join(o.Dir, "worker-1.qcow2")
	if err := harness.CreateOverlay(ctx, harness.DefaultQEMUImg, o.ControlPlaneImage, "raw", p.cpDisk, o.DiskSize); err != nil {
		return nil, err
	}
	if o.WorkerImage != "" {
		if err := harness.CreateOverlay(ctx, harness.DefaultQEMUImg, o.WorkerImage, "raw", p.workerDisk, o.DiskSize); err != nil {
			return nil, err
		}
	}
	if p.link[0], err = p.Link(ControlPlaneMAC); err != nil {
		return nil, err
	}
	if p.link[1], err = p.Link(WorkerMAC); err != nil {
		return nil, err
	}
	if p.Kubeconfig, err = hostKubeconfig(p.Cluster, o.Dir, o.APIPort); err != nil {
		return nil, err
	}
	for _, vm := range []string{"cp-1", "worker-1"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, vm), 0o700); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Link is a NIC with the given MAC on the cluster network, for a further node.
func (p *Plan) Link(mac string) (harness.Link, error) { return p.hub.Link(mac) }

// Close stops the cluster network.
func (p *Plan) Close() error { return p.hub.Close() }

// NodeIgnition is "kiln ignition" for one node, with NodeButane for its place on the cluster
// network and the Options' ExtraButane, if any.
func (p *Plan) NodeIgnition(role nodeconfig.Role, name, mac, ip string) ([]byte, error) {
	butane := NodeButane(name, mac, ip)
	if p.ExtraButane != nil {
		extra, err := p.ExtraButane(p, role, name, ip)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if butane, err = MergeButane(butane, extra); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return ignitionconfig.Render(p.Cluster, ignitionconfig.Options{Role: role, NodeName: name, Butane: butane})
}

// configDrive writes an OpenStack config drive (ISO 9660 labelled config-2) with the config as
// its user data.
func configDrive(tree string, userData []byte) (string, error) {
	latest := filepath.Join(tree, "openstack", "latest")
	if err := os.MkdirAll(latest, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(latest, "user_data"), userData, 0o600); err != nil {
		return "", err
	}
	iso := tree + ".iso"
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-V", "config-2", "-J", "-R", "-o", iso, tree).CombinedOutput(); err != nil {
		return "", fmt.Errorf("xorriso: %v: %s", err, out)
	}
	return iso, os.RemoveAll(tree)
}

// hostKubeconfig writes admin.conf with its server at the forwarded port.
func hostKubeconfig(dir *clusterdir.Dir, out string, port int) (string, error) {
	cfg, err := kubeconfig.Load(dir.AdminConf())
	if err != nil {
		return "", err
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://127.0.0.1:" + strconv.Itoa(port)
	}
	path := filepath.Join(out, "admin.conf")
	return path, kubeconfig.Write(path, cfg)
}

// Client is a client for the cluster through the forwarded port.
func (p *Plan) Client() (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", p.Kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.Timeout = 20 * time.Second
	return kubernetes.NewForConfig(rc)
}

// ControlPlaneConfig is the control plane's VM: its disk, its config by fw_cfg, the API
// forward, the link. Booting it again after a power cut reuses its UEFI variables.
func (p *Plan) ControlPlaneConfig() harness.Config {
	return harness.Config{
		Name: "cp-1", Dir: filepath.Join(p.Dir, "cp-1"), LogDir: p.Dir, Disk: p.cpDisk, DiskFormat: "qcow2",
		MemoryMiB: 3072, CPUs: 2, UEFIVars: p.cpVars,
		FwCfg:   []harness.FwCfg{{Name: "opt/com.coreos/config", File: p.cpIgnition}},
		UserNet: &harness.UserNet{HostForwards: []harness.HostForward{{HostPort: p.APIPort, GuestPort: apiPort}}},
		Links:   []harness.Link{p.link[0]},
	}
}

// WorkerConfig is the worker's VM: its disk, its config drive, the link. It runs at background
// priority: under TCG on a small host a worker unpacking its images would otherwise take the
// cores the control plane's API server needs to answer its probes.
func (p *Plan) WorkerConfig() harness.Config {
	return harness.Config{
		Name: "worker-1", Dir: filepath.Join(p.Dir, "worker-1"), LogDir: p.Dir, Disk: p.workerDisk, DiskFormat: "qcow2",
		MemoryMiB: 2048, CPUs: 1, Nice: harness.NiceBackground,
		Drives: []harness.Drive{{Path: p.workerISO, Media: "cdrom"}},
		Links:  []harness.Link{p.link[1]},
	}
}

// KeepUEFIVars makes the next ControlPlaneConfig boot with vm's UEFI variables.
func (p *Plan) KeepUEFIVars(vm *harness.VM) { p.cpVars = vm.UEFIVars() }
