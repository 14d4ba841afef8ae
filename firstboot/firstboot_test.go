package firstboot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

const testSecret = "0123456789abcdef"

// workerRoot writes what Ignition writes on a worker into a directory standing in for "/".
func workerRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	nc := nodeconfig.New(nodeconfig.RoleWorker)
	nc.NodeName = "worker-1"
	nc.NodeIP = "192.168.100.11"
	nc.ClusterName = "kiln"
	nc.ControlPlaneEndpoint = "192.168.100.10:6443"
	nc.CACertHashes = []string{"sha256:" + strings.Repeat("ab", 32)}
	nc.KubernetesVersion = "v1.36.3"
	data, err := nc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, nodeconfig.NodeConfigPath, data, 0o644)
	write(t, root, nodeconfig.BootstrapTokenPath, []byte("abcdef."+testSecret+"\n"), 0o600)
	return root
}

func write(t *testing.T, root, path string, data []byte, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// testNode is a node under root whose logs and console lines land in the returned buffers.
func testNode(root string) (*Node, *bytes.Buffer, *bytes.Buffer) {
	var log, console bytes.Buffer
	return &Node{Root: root, Log: slog.New(slog.NewTextHandler(&log, nil)), Console: &console}, &log, &console
}

// The phase list is kubeadm's order, and each role runs only its own branch.
func TestPhasesPerRole(t *testing.T) {
	run := func(role nodeconfig.Role) []string {
		n := &Node{Config: &nodeconfig.NodeConfig{Role: role}}
		var names []string
		for _, p := range Phases() {
			if p.RunIf == nil || p.RunIf(n) {
				names = append(names, p.Name)
			}
		}
		return names
	}
	cp := strings.Join(run(nodeconfig.RoleControlPlane), " ")
	worker := strings.Join(run(nodeconfig.RoleWorker), " ")
	wantCP := "preflight config images init/certs init/kubeconfig init/kubelet-config init/manifests init/kubelet-start init/wait-control-plane init/wait-controllers init/cluster-objects init/mark-control-plane pod-network handoff"
	wantWorker := "preflight config images join/discovery join/kubelet-config join/kubelet-start join/wait-node pod-network handoff"
	if cp != wantCP {
		t.Errorf("control plane runs\n  %s\nwant\n  %s", cp, wantCP)
	}
	if worker != wantWorker {
		t.Errorf("worker runs\n  %s\nwant\n  %s", worker, wantWorker)
	}
}

// Run prints one line per phase with its duration, stops at the first failure, and leaves the
// failure in the status file for "kiln-agent status".
func TestRunRecordsStatus(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	n.Config = &nodeconfig.NodeConfig{Role: nodeconfig.RoleWorker}
	ran := []string{}
	phase := func(name string, err error) Phase {
		return Phase{Name: name, Run: func(context.Context, *Node) error { ran = append(ran, name); return err }}
	}
	boom := errors.New("kube-apiserver not healthy")
	phases := []Phase{phase("a", nil), {Name: "cp-only", RunIf: (*Node).isControlPlane, Run: nil}, phase("b", boom), phase("c", nil)}
	err := Run(context.Background(), n, phases)
	if !errors.Is(err, ErrPhase) || !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want ErrPhase wrapping the phase's error", err)
	}
	if strings.Join(ran, ",") != "a,b" {
		t.Errorf("ran %v, want a,b", ran)
	}
	for _, want := range []string{"[a] done in ", "[b] FAILED after ", "kube-apiserver not healthy"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	st, err := ReadStatus(n.Root)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateFailed || st.Phase != "b" || st.Progress != "1/3" || !strings.Contains(st.LastError, "kube-apiserver") {
		t.Errorf("status = %+v", st)
	}
	states := map[string]string{}
	for _, p := range st.Phases {
		states[p.Name] = p.State
	}
	if states["a"] != "done" || states["cp-only"] != "skipped" || states["b"] != "failed" || states["c"] != "pending" {
		t.Errorf("phase states = %v", states)
	}
	var out bytes.Buffer
	if err := PrintStatus(&out, st, false); err != nil || !strings.Contains(out.String(), "error:    b: kube-apiserver not healthy") {
		t.Errorf("PrintStatus: %v\n%s", err, out.String())
	}
}

// A complete run records the agent's footprint, measured by the kernel, in the status file and
// on the console; a program the agent ran counts apart.
func TestRunRecordsFootprint(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	n.Config = &nodeconfig.NodeConfig{Role: nodeconfig.RoleWorker}
	busy := Phase{Name: "busy", Run: func(ctx context.Context, _ *Node) error {
		return exec.CommandContext(ctx, "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done").Run()
	}}
	if err := Run(context.Background(), n, []Phase{busy}); err != nil {
		t.Fatal(err)
	}
	st, err := ReadStatus(n.Root)
	if err != nil {
		t.Fatal(err)
	}
	fp := st.Footprint
	if st.State != StateComplete || fp == nil || fp.PeakRSSMiB <= 0 || fp.CPUSeconds <= 0 || fp.ProgramsCPUSeconds <= 0 {
		t.Fatalf("status %s, footprint %+v: want peak RSS, the agent's CPU and the shell's CPU", st.State, fp)
	}
	if !strings.Contains(console.String(), "[kiln] agent footprint: ") {
		t.Errorf("console lacks the footprint:\n%s", console)
	}
}

// The config phase reads the worker's files; the token is used but never printed or logged.
func TestConfigPhaseWorker(t *testing.T) {
	n, log, console := testNode(workerRoot(t))
	if err := loadConfig(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if n.Name != "worker-1" || n.IP.String() != "192.168.100.11" || n.Token.Value() != "abcdef."+testSecret {
		t.Errorf("config phase: name %q ip %v token id %q", n.Name, n.IP, n.Token.ID)
	}
	for what, text := range map[string]string{"log": log.String(), "console": console.String()} {
		if strings.Contains(text, testSecret) {
			t.Errorf("the token's secret is in the %s:\n%s", what, text)
		}
	}
}

// A malformed value stops the config phase with an error that names the file and the field.
func TestConfigPhaseNamesBadValue(t *testing.T) {
	root := workerRoot(t)
	p := filepath.Join(root, nodeconfig.NodeConfigPath)
	data, _ := os.ReadFile(p)
	write(t, root, nodeconfig.NodeConfigPath, bytes.Replace(data, []byte("192.168.100.11"), []byte("192.168.100.300"), 1), 0o644)
	n, _, _ := testNode(root)
	err := loadConfig(context.Background(), n)
	if err == nil || !strings.Contains(err.Error(), nodeconfig.NodeConfigPath) || !strings.Contains(err.Error(), "nodeIP") {
		t.Fatalf("err = %v, want one naming %s and nodeIP", err, nodeconfig.NodeConfigPath)
	}
	write(t, root, nodeconfig.NodeConfigPath, data, 0o644)
	write(t, root, nodeconfig.BootstrapTokenPath, []byte("not-a-token\n"), 0o600)
	n, _, _ = testNode(root)
	err = loadConfig(context.Background(), n)
	if err == nil || !strings.Contains(err.Error(), nodeconfig.BootstrapTokenPath) {
		t.Fatalf("err = %v, want one naming %s", err, nodeconfig.BootstrapTokenPath)
	}
}

// Preflight prints kubeadm's lines; files of an earlier node refuse a join, but the same files
// left by this node's own interrupted first boot do not.
func TestPreflightFileAvailable(t *testing.T) {
	root := workerRoot(t)
	write(t, root, layout.KubeconfigPath(layout.KubeletConf), []byte("x"), 0o600)
	n, _, _ := testNode(root)
	var out bytes.Buffer
	_, err := Preflight(n, &out)
	if !errors.Is(err, ErrPreflight) {
		t.Fatalf("Preflight = %v, want ErrPreflight", err)
	}
	want := "\t[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists"
	if !strings.Contains(out.String(), want) {
		t.Errorf("preflight output lacks %q:\n%s", want, out.String())
	}

	write(t, root, StartedStamp, []byte("earlier\n"), 0o644)
	out.Reset()
	_, _ = Preflight(n, &out)
	if strings.Contains(out.String(), "[ERROR FileAvailable") || !strings.Contains(out.String(), "continuing an interrupted first boot") {
		t.Errorf("a resumed first boot still refuses its own files:\n%s", out.String())
	}
}

// Without a status file (a later boot: /run is empty) ReadStatus says so in a way callers can
// tell apart.
func TestReadStatusMissing(t *testing.T) {
	_, err := ReadStatus(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), StatusPath) {
		t.Errorf("ReadStatus of an empty root = %v", err)
	}
}

func TestCNIConfig(t *testing.T) {
	data, err := CNIConfig("10.244.1.0/24")
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		CNIVersion string `json:"cniVersion"`
		Plugins    []struct {
			Type string `json:"type"`
			IPAM struct {
				Ranges [][]struct {
					Subnet string `json:"subnet"`
				} `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	if conf.Plugins[0].Type != "bridge" || conf.Plugins[0].IPAM.Ranges[0][0].Subnet != "10.244.1.0/24" || conf.Plugins[1].Type != "portmap" {
		t.Errorf("CNI config: %s", data)
	}
}
