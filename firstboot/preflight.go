package firstboot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// check is one preflight check, named as kubeadm prints it.
type check struct {
	name string
	// on says which roles run the check; empty means both.
	on  nodeconfig.Role
	run func(n *Node) (warnings, errs []error)
}

// Thresholds of kiln's own checks.
const (
	minVarFree     = 1 << 30    // below: error; the images and etcd need room
	warnVarFree    = 3 << 30    // below: warning
	minCPUs        = 2          // control plane, as kubeadm
	minMemoryBytes = 1700 << 20 // control plane, as kubeadm
)

// clockFloor is a time every real clock is past: a node whose clock is older cannot judge any
// certificate (kiln's CAs are younger than this).
var clockFloor = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// checks are kubeadm's preflight checks that apply to a kiln node, with kiln's own; apiPort is the
// port the API server will bind (localAPIEndpoint.bindPort).
func checks(apiPort int) []check {
	cp, worker := nodeconfig.RoleControlPlane, nodeconfig.RoleWorker
	return []check{
		{name: "IsPrivilegedUser", run: checkRoot},
		{name: "NumCPU", on: cp, run: checkCPUs},
		{name: "Mem", on: cp, run: checkMemory},
		portCheck(cp, apiPort),
		portCheck(cp, kubeadm.SchedulerPort),
		portCheck(cp, kubeadm.ControllerManagerPort),
		{name: "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml", on: cp, run: fileAbsent(layout.ManifestsDir + "/kube-apiserver.yaml")},
		{name: "FileAvailable--etc-kubernetes-manifests-kube-controller-manager.yaml", on: cp, run: fileAbsent(layout.ManifestsDir + "/kube-controller-manager.yaml")},
		{name: "FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml", on: cp, run: fileAbsent(layout.ManifestsDir + "/kube-scheduler.yaml")},
		{name: "FileAvailable--etc-kubernetes-manifests-etcd.yaml", on: cp, run: fileAbsent(layout.ManifestsDir + "/etcd.yaml")},
		portCheck(cp, kubeadm.EtcdClientPort),
		portCheck(cp, kubeadm.EtcdPeerPort),
		{name: "DirAvailable--var-lib-etcd", on: cp, run: dirEmpty(layout.EtcdDataDir)},
		{name: "FileAvailable--etc-kubernetes-kubelet.conf", on: worker, run: fileAbsent(layout.KubeconfigPath(layout.KubeletConf))},
		{name: "FileAvailable--etc-kubernetes-bootstrap-kubelet.conf", on: worker, run: fileAbsent(layout.KubeconfigPath(layout.BootstrapKubeletConf))},
		{name: "FileAvailable--etc-kubernetes-pki-ca.crt", on: worker, run: fileAbsent(layout.PKIPath("ca.crt"))},
		{name: "FileContent--proc-sys-net-ipv4-ip_forward", run: fileContent("/proc/sys/net/ipv4/ip_forward", "1")},
		{name: "CRI", run: checkCRI},
		{name: "Swap", run: checkSwap},
		{name: "FileExisting-losetup", run: inPath("losetup")},
		{name: "FileExisting-mount", run: inPath("mount")},
		{name: "FileExisting-cp", run: inPath("cp")},
		{name: "Hostname", run: checkHostname},
		{name: "KubeletVersion", run: checkKubeletVersion},
		{name: "Service-kubelet", run: checkKubeletEnabled},
		portCheck("", kubeadm.KubeletPort),
		{name: "Cgroups", run: checkCgroups},
		{name: "Clock", run: checkClock},
		{name: "VarFreeSpace", run: checkVarFree},
		{name: "Resolv", run: checkResolv},
	}
}

// Finding is one line of a preflight report.
type Finding struct {
	Check string
	Error bool
	Err   error
}

func (f Finding) String() string {
	sev := "WARNING"
	if f.Error {
		sev = "ERROR"
	}
	return fmt.Sprintf("\t[%s %s]: %v", sev, f.Check, f.Err)
}

// ErrPreflight means at least one check found an error.
var ErrPreflight = errors.New("preflight checks failed")

// Preflight runs the checks for the node's role and writes kubeadm's lines to w. Files an
// interrupted first boot of this node wrote do not count against it: they are its own.
func Preflight(n *Node, w io.Writer) ([]Finding, error) {
	cfg, err := n.readNodeConfig()
	if err != nil {
		return nil, err
	}
	resumed := n.exists(StartedStamp)
	var out []Finding
	errCount := 0
	for _, c := range checks(n.apiServerBindPort(cfg.Role)) {
		if c.on != "" && c.on != cfg.Role {
			continue
		}
		warns, errs := c.run(n)
		if resumed && (strings.HasPrefix(c.name, "FileAvailable--") || strings.HasPrefix(c.name, "DirAvailable--") || strings.HasPrefix(c.name, "Port-")) {
			// An interrupted first boot left these, and may have left kubelet or the control
			// plane running: continuing is what the rerun is for.
			errs = nil
			warns = nil
		}
		for _, e := range warns {
			out = append(out, Finding{Check: c.name, Err: e})
		}
		for _, e := range errs {
			out = append(out, Finding{Check: c.name, Error: true, Err: e})
			errCount++
		}
	}
	if resumed {
		fmt.Fprintf(w, "[preflight] continuing an interrupted first boot: its files, ports and data are its own\n")
	}
	for _, f := range out {
		fmt.Fprintln(w, f)
	}
	if errCount > 0 {
		return out, fmt.Errorf("%w: %d error(s): %s", ErrPreflight, errCount, summarize(out))
	}
	return out, nil
}

func summarize(fs []Finding) string {
	var names []string
	for _, f := range fs {
		if f.Error {
			names = append(names, f.Check)
		}
	}
	return strings.Join(names, ", ")
}

// runPreflight is the preflight phase; it marks the first boot started once the checks pass.
func runPreflight(_ context.Context, n *Node) error {
	n.startKeyPool()
	var sb strings.Builder
	findings, err := Preflight(n, &sb)
	for _, f := range findings {
		level := n.Log.Warn
		if f.Error {
			level = n.Log.Error
		}
		level("preflight finding", "check", f.Check, "error", f.Error, "message", f.Err.Error())
	}
	if sb.Len() > 0 && n.Console != nil {
		io.WriteString(n.Console, sb.String())
	}
	if err != nil {
		n.keys.Stop() // the keys made meanwhile are dropped, never written
		return err
	}
	if err := os.MkdirAll(n.path(StateDir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(n.path(StartedStamp), []byte(n.now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

func one(err error) []error {
	if err == nil {
		return nil
	}
	return []error{err}
}

func checkRoot(*Node) ([]error, []error) {
	if os.Getuid() != 0 {
		return nil, one(errors.New("user is not running as root"))
	}
	return nil, nil
}

func checkCPUs(*Node) ([]error, []error) {
	if n := runtime.NumCPU(); n < minCPUs {
		return nil, one(fmt.Errorf("the number of available CPUs %d is less than the required %d", n, minCPUs))
	}
	return nil, nil
}

func checkMemory(*Node) ([]error, []error) {
	var info syscall.Sysinfo_t
	if err := syscall.Sysinfo(&info); err != nil {
		return nil, one(fmt.Errorf("sysinfo: %w", err))
	}
	total := uint64(info.Totalram) * uint64(info.Unit)
	if total < minMemoryBytes {
		return nil, one(fmt.Errorf("the system RAM (%d MB) is less than the minimum %d MB", total>>20, minMemoryBytes>>20))
	}
	return nil, nil
}

// initKeys is how many private keys a control plane's init makes: seven leaf certificates
// (apiserver, apiserver-kubelet-client, front-proxy-client, etcd server, peer and
// healthcheck-client, apiserver-etcd-client) and five kubeconfigs' client certificates.
const initKeys = 7 + 5

// startKeyPool starts making a control plane's keys while preflight runs: they stay in memory
// until init/certs and init/kubeconfig take them, and are dropped if preflight fails. A resumed
// first boot has its keys already, and a worker makes none.
func (n *Node) startKeyPool() {
	cfg, err := n.readNodeConfig()
	if err != nil || cfg.Role != nodeconfig.RoleControlPlane || n.exists(StartedStamp) {
		return
	}
	cluster, err := config.LoadFile(n.path(nodeconfig.ClusterConfigPath))
	if err != nil {
		return // the config phase names what is wrong
	}
	n.keys = pki.NewKeyPool(pki.KeyAlgorithm(cluster.Cluster.EncryptionAlgorithm), initKeys, runtime.NumCPU())
}

// portCheck is kubeadm's Port-N check: nothing listens on port yet.
func portCheck(on nodeconfig.Role, port int) check {
	return check{name: "Port-" + strconv.Itoa(port), on: on, run: portFree(port)}
}

// apiServerBindPort is the port a control plane's API server will bind, from the cluster
// configuration in its Ignition config. An unreadable configuration is the config phase's to
// report; preflight then checks kubeadm's default port.
func (n *Node) apiServerBindPort(role nodeconfig.Role) int {
	if role != nodeconfig.RoleControlPlane {
		return kubeadm.APIServerPort
	}
	cfg, err := config.LoadFile(n.path(nodeconfig.ClusterConfigPath))
	if err != nil || cfg.Init.LocalAPIEndpoint.BindPort == 0 {
		return kubeadm.APIServerPort
	}
	return int(cfg.Init.LocalAPIEndpoint.BindPort)
}

func portFree(port int) func(*Node) ([]error, []error) {
	return func(*Node) ([]error, []error) {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			return nil, one(fmt.Errorf("port %d is in use", port))
		}
		l.Close()
		return nil, nil
	}
}

func fileAbsent(p string) func(*Node) ([]error, []error) {
	return func(n *Node) ([]error, []error) {
		if n.exists(p) {
			return nil, one(fmt.Errorf("%s already exists", p))
		}
		return nil, nil
	}
}

func dirEmpty(p string) func(*Node) ([]error, []error) {
	return func(n *Node) ([]error, []error) {
		entries, err := os.ReadDir(n.path(p))
		if err == nil && len(entries) > 0 {
			return nil, one(fmt.Errorf("%s is not empty", p))
		}
		return nil, nil
	}
}

func fileContent(p, want string) func(*Node) ([]error, []error) {
	return func(n *Node) ([]error, []error) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, one(fmt.Errorf("%s does not exist", p))
		}
		if got := strings.TrimSpace(string(data)); got != want {
			return nil, one(fmt.Errorf("%s contents are not set to %s", p, want))
		}
		return nil, nil
	}
}

func checkCRI(n *Node) ([]error, []error) {
	sock := strings.TrimPrefix(layout.ContainerdSock, "unix://")
	conn, err := net.DialTimeout("unix", n.path(sock), 5*time.Second)
	if err != nil {
		return nil, one(fmt.Errorf("container runtime is not running: %s: %v", sock, err))
	}
	conn.Close()
	return nil, nil
}

func checkSwap(*Node) ([]error, []error) {
	f, err := os.Open("/proc/swaps")
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	lines := 0
	for s.Scan() {
		lines++
	}
	if lines > 1 {
		return one(errors.New("swap is supported for cgroup v2 only; the kubelet must be properly configured to use swap, or disable swap")), nil
	}
	return nil, nil
}

func inPath(name string) func(*Node) ([]error, []error) {
	return func(*Node) ([]error, []error) {
		if _, err := exec.LookPath(name); err != nil {
			return nil, one(fmt.Errorf("%s not found in system path", name))
		}
		return nil, nil
	}
}

func checkHostname(n *Node) ([]error, []error) {
	name := n.Config.NodeName
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return one(fmt.Errorf("hostname: %w", err)), nil
		}
		name = strings.ToLower(h)
	}
	if msgs := validation.IsQualifiedName(name); len(msgs) > 0 {
		return one(fmt.Errorf("node name %q is not a valid name: %s", name, strings.Join(msgs, "; "))), nil
	}
	return nil, nil
}

func checkKubeletVersion(n *Node) ([]error, []error) {
	out, err := exec.Command(n.path("/usr/bin/kubelet"), "--version").Output()
	if err != nil {
		return nil, one(fmt.Errorf("couldn't get kubelet version: %v", err))
	}
	got, err := version.ParseSemantic(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "Kubernetes")))
	if err != nil {
		return nil, one(fmt.Errorf("couldn't parse kubelet version %q", strings.TrimSpace(string(out))))
	}
	want, err := version.ParseSemantic(n.Config.KubernetesVersion)
	if err != nil {
		return nil, one(err)
	}
	if got.Major() != want.Major() || got.Minor() != want.Minor() {
		return nil, one(fmt.Errorf("the kubelet version %s does not match the cluster's Kubernetes %s", got, want))
	}
	return nil, nil
}

func checkKubeletEnabled(n *Node) ([]error, []error) {
	if !n.exists("/etc/systemd/system/multi-user.target.wants/kubelet.service") {
		return one(errors.New("kubelet service is not enabled, please run 'systemctl enable kubelet.service'")), nil
	}
	return nil, nil
}

func checkCgroups(n *Node) ([]error, []error) {
	data, err := os.ReadFile(n.path("/sys/fs/cgroup/cgroup.controllers"))
	if err != nil {
		return nil, one(errors.New("cgroup v2 is not mounted at /sys/fs/cgroup"))
	}
	have := map[string]bool{}
	for _, c := range strings.Fields(string(data)) {
		have[c] = true
	}
	var missing []string
	for _, c := range []string{"cpu", "cpuset", "memory", "pids"} {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, one(fmt.Errorf("required cgroup controllers are missing: %s", strings.Join(missing, ", ")))
	}
	return nil, nil
}

// checkClock refuses a clock older than kiln itself or than the cluster CA: every certificate
// would look not yet valid, and the agent's errors would be about TLS, not about the clock.
func checkClock(n *Node) ([]error, []error) {
	now := n.now()
	if now.Before(clockFloor) {
		return nil, one(fmt.Errorf("the clock says %s, before %s: set the time (an RTC, NTP, or the hypervisor)", now.UTC().Format(time.RFC3339), clockFloor.Format("2006-01-02")))
	}
	for _, p := range []string{layout.PKIPath("ca.crt"), nodeconfig.CACertPath} {
		if !n.exists(p) {
			continue
		}
		ca, err := pki.LoadCert(n.path(p))
		if err != nil {
			continue // the config phase names broken files
		}
		// Certificates are backdated by five minutes; allow a little more skew than that.
		if now.Add(10 * time.Minute).Before(ca.NotBefore) {
			return nil, one(fmt.Errorf("the clock says %s, before the cluster CA (%s) became valid at %s", now.UTC().Format(time.RFC3339), p, ca.NotBefore.UTC().Format(time.RFC3339)))
		}
	}
	return nil, nil
}

func checkVarFree(n *Node) ([]error, []error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(n.path("/var"), &st); err != nil {
		return nil, one(fmt.Errorf("statfs /var: %w", err))
	}
	free := st.Bavail * uint64(st.Bsize)
	switch {
	case free < minVarFree:
		return nil, one(fmt.Errorf("/var has %d MiB free, less than the %d MiB the images and etcd need: give the VAR partition more room", free>>20, minVarFree>>20))
	case free < warnVarFree:
		return one(fmt.Errorf("/var has only %d MiB free", free>>20)), nil
	}
	return nil, nil
}

// checkResolv warns when pods would get no upstream DNS: CoreDNS forwards to the node's
// resolv.conf and does not start without a nameserver in it.
func checkResolv(n *Node) ([]error, []error) {
	data, err := os.ReadFile(n.path("/etc/resolv.conf"))
	if err == nil && strings.Contains(string(data), "nameserver") {
		return nil, nil
	}
	return one(errors.New("/etc/resolv.conf names no nameserver: CoreDNS needs one to forward to (give the node DNS by DHCP or write /etc/resolv.conf with Ignition)")), nil
}
