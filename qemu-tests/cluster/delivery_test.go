package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/build/bootserver"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/loopback"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

// The two delivered workers. The PXE worker boots from its user-network NIC (bootMAC, the
// MAC kiln serve matches) and joins on its second NIC (the cluster network).
const (
	pxeWorker     = "worker-pxe"
	pxeBootMAC    = "52:54:00:6b:01:12"
	pxeClusterMAC = "52:54:00:6b:00:12"
	pxeWorkerIP   = "192.168.100.12"

	ec2Worker     = "worker-ec2"
	ec2ClusterMAC = "52:54:00:6b:00:13"
	ec2WorkerIP   = "192.168.100.13"
)

// ipxeChain is the first script the PXE worker's NIC ROM gets by slirp's TFTP, as a site's
// DHCP/TFTP server would hand it out: chain to kiln serve with the machine's MAC.
const ipxeChain = "#!ipxe\nchain http://" + harness.DefaultGuestFwdIP + "/boot.ipxe?mac=${mac:hexhyp}\n"

// TestWorkersJoinByPXEAndUserData: the worker image joins a running control plane whichever
// way it is delivered.
//   - PXE: a diskless VM's NIC ROM (iPXE, under SeaBIOS) gets DHCP and a first script from
//     slirp's TFTP, chains to kiln serve, which matches the machine by MAC and hands it the
//     worker bundle's script; kiln-init fetches and verifies the root squashfs, Ignition
//     fetches the machine's own config from kiln serve, and the node runs from RAM.
//   - EC2-style user data: the worker disk image booted with ignition.platform.id=aws reads its
//     config from a metadata service (IMDSv2) through Ignition's aws provider.
//
// Both become Ready Nodes; the control plane came from the same cluster directory.
func TestWorkersJoinByPXEAndUserData(t *testing.T) {
	harness.RequireVM(t)
	worker := testimage.Worker(t)
	p := prepare(t, false)
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	serve, serveLog := startKilnServe(t, p, worker.PXE)
	pxeCfg := pxeWorkerConfig(t, p, serve.Port)
	ec2Cfg, imds := ec2WorkerConfig(t, p, worker)

	cp := harness.Start(t, p.ControlPlaneConfig())
	ctx, stopCP := watchAgents(ctx, cp)
	defer stopCP()
	waitFirstboot(ctx, t, cp)
	// The workers power on once the control plane's first boot is complete: two workers
	// unpacking images beside a control plane still in init, on two shared cores, starved its
	// API server into restarts under its liveness probe (seen in make test).
	started := map[string]time.Time{pxeWorker: time.Now()}
	pxe := harness.Start(t, pxeCfg)
	started[ec2Worker] = time.Now()
	ec2 := harness.Start(t, ec2Cfg)
	reportClusterOnFailure(t, p)
	ctx, stopWorkers := watchAgents(ctx, pxe, ec2)
	defer stopWorkers()

	client, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	err = vmcluster.WaitNodesReady(ctx, client, []string{vmcluster.ControlPlaneName, pxeWorker, ec2Worker}, func(name string) {
		if at, ok := started[name]; ok {
			t.Logf("node %s Ready %s after power-on", name, time.Since(at).Round(time.Second))
		}
	})
	if err != nil {
		t.Fatal(why(ctx, err))
	}
	waitFirstboot(ctx, t, pxe)
	waitFirstboot(ctx, t, ec2)
	out := kubectl(t, p.Kubeconfig, "get", "nodes", "-o", "wide")
	t.Logf("kubectl get nodes -o wide:\n%s", out)
	for name, ip := range map[string]string{pxeWorker: pxeWorkerIP, ec2Worker: ec2WorkerIP} {
		if !regexp.MustCompile(`(?m)^` + name + `\s+Ready\s.*\s` + regexp.QuoteMeta(ip) + `\s`).MatchString(out) {
			t.Errorf("kubectl does not show %s Ready with internal IP %s", name, ip)
		}
	}

	// How the PXE worker got there: every step through kiln serve; the script and the config
	// are the machine's own, matched to its group by MAC. Bundle files are the same for every
	// machine and hold no secret.
	log := serveLog.String()
	t.Logf("kiln serve log:\n%s", log)
	for path, group := range map[string]string{
		"/boot.ipxe": "pxe-workers", "/bundle/worker/ignition": "pxe-workers",
		"/bundle/worker/vmlinuz": "", "/bundle/worker/initrd.img": "", "/bundle/worker/root.squashfs": "",
	} {
		want := `path=` + regexp.QuoteMeta(path) + ` .*status=200`
		if group != "" {
			want = `path=` + regexp.QuoteMeta(path) + ` .*group=` + group + ` status=200`
		}
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("kiln serve did not serve %s to the PXE worker (want a log line matching %s)", path, want)
		}
	}
	if _, err := pxe.WaitFor(ctx, regexp.MustCompile(regexp.QuoteMeta(console.InitVolatile)+`the root squashfs in RAM`)); err != nil {
		t.Errorf("PXE worker: %v", err)
	}
	// A machine kiln serve does not know gets nothing.
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/bundle/worker/ignition?mac=52-54-00-99-99-99", serve.Port)); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown machine's config: %v %v, want 404", resp, err)
	}
	// How the EC2 worker got there: a session token, then the user data.
	if reqs := imds.Requests(); !loopback.TokenBeforeUserData(reqs) {
		t.Errorf("want IMDSv2 (a session token, then the user data), saw %q", reqs)
	}

	for _, vm := range []*harness.VM{pxe, ec2, cp} {
		if err := vm.Powerdown(ctx); err != nil {
			t.Errorf("power off %s: %v", vm.Name(), err)
		}
	}
}

// startKilnServe runs kiln serve's server on 127.0.0.1 with one group: the PXE worker, matched
// by the MAC it boots from, with a Butane file for its place on the cluster network.
func startKilnServe(t *testing.T, p *vmcluster.Plan, bundle string) (*loopback.Server, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, pxeWorker+".bu"), vmcluster.NodeButane(pxeWorker, pxeClusterMAC, pxeWorkerIP), 0o644); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`apiVersion: kiln.dev/v1alpha1
kind: ServeConfig
listen: 127.0.0.1:0
cluster: %s
bundles: {worker: %s}
groups:
- name: pxe-workers
  selector: {mac: "%s"}
  bundle: worker
  role: %s
  nodeName: %s
  butane: %s.bu
`, p.Cluster.Path, bundle, pxeBootMAC, nodeconfig.RoleWorker, pxeWorker, pxeWorker)
	path := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := bootserver.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	s, err := bootserver.New(cfg, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kiln serve log:\n%s", log)
		}
	})
	return loopback.Start(t, s), log
}

// pxeWorkerConfig is a diskless VM that boots by its NIC's iPXE ROM: slirp's DHCP names the
// first script, slirp's TFTP serves it, and 10.0.2.100:80 reaches kiln serve.
func pxeWorkerConfig(t *testing.T, p *vmcluster.Plan, servePort int) harness.Config {
	t.Helper()
	tftp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tftp, "kiln.ipxe"), []byte(ipxeChain), 0o644); err != nil {
		t.Fatal(err)
	}
	link, err := p.Link(pxeClusterMAC)
	if err != nil {
		t.Fatal(err)
	}
	// The root squashfs, /var (images unpacked into containerd) and /etc live in RAM.
	return harness.Config{Name: pxeWorker, LogDir: p.Dir, MemoryMiB: 3072, CPUs: 1, Nice: harness.NiceBackground, Firmware: harness.FirmwareBIOS,
		UserNet: &harness.UserNet{MAC: pxeBootMAC, NetBoot: true, TFTP: tftp, BootFile: "kiln.ipxe",
			GuestForwards: []harness.GuestForward{{GuestPort: 80, HostPort: servePort}}},
		Links: []harness.Link{link}}
}

// ec2WorkerConfig is the worker disk image on a cloud-like VM: its kernel booted with
// ignition.platform.id=aws, and an EC2-style metadata service at 169.254.169.254 serving the
// worker's Ignition config as user data.
func ec2WorkerConfig(t *testing.T, p *vmcluster.Plan, img testimage.Images) (harness.Config, *loopback.IMDS) {
	t.Helper()
	ign, err := p.NodeIgnition(nodeconfig.RoleWorker, ec2Worker, ec2ClusterMAC, ec2WorkerIP)
	if err != nil {
		t.Fatal(err)
	}
	imds := &loopback.IMDS{UserData: ign}
	srv := loopback.Start(t, imds)
	link, err := p.Link(ec2ClusterMAC)
	if err != nil {
		t.Fatal(err)
	}
	return harness.Config{Name: ec2Worker, LogDir: p.Dir, Disk: img.Raw, Overlay: true, OverlaySize: 8 << 30,
		MemoryMiB: 2048, CPUs: 1, Nice: harness.NiceBackground,
		Kernel: filepath.Join(img.PXE, imagebuild.PXEKernel), Initrd: filepath.Join(img.PXE, imagebuild.PXEInitrd),
		Append: img.KernelOptions(t) + " ignition.platform.id=aws",
		UserNet: &harness.UserNet{Net: "169.254.0.0/16",
			GuestForwards: []harness.GuestForward{{GuestAddr: "169.254.169.254", GuestPort: 80, HostPort: srv.Port}}},
		Links: []harness.Link{link}}, imds
}

// syncBuffer is a log buffer written by the server's goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
