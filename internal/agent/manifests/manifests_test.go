package manifests

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/testkit/golden"
	corev1 "k8s.io/api/core/v1"
)

func testInputs(t *testing.T) *Inputs {
	t.Helper()
	cfg, err := config.Parse([]byte(`
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
controlPlaneEndpoint: cp.example.test:6443
apiServer:
  extraArgs:
  - {name: audit-log-maxage, value: "7"}
  - {name: authorization-mode, value: "Node,RBAC,Webhook"}
  extraVolumes:
  - {name: audit, hostPath: /var/log/kubernetes, mountPath: /var/log/kubernetes, pathType: DirectoryOrCreate}
controllerManager:
  extraArgs:
  - {name: node-monitor-grace-period, value: 20s}
etcd:
  local:
    extraArgs:
    - {name: quota-backend-bytes, value: "4294967296"}
`))
	if err != nil {
		t.Fatal(err)
	}
	return &Inputs{Config: cfg, NodeName: "cp-1", AdvertiseAddress: net.ParseIP("192.0.2.10")}
}

func TestStaticPodsGolden(t *testing.T) {
	pods, err := StaticPods(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods {
		data, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		golden.Assert(t, p.Name, data)
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{kubeadm.Etcd, kubeadm.KubeAPIServer, kubeadm.ControllerManager, kubeadm.Scheduler}) {
		t.Errorf("pods %v", names)
	}
}

func TestExtraArgsReplaceDefaults(t *testing.T) {
	pods, err := StaticPods(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	cmd := pods[1].Spec.Containers[0].Command
	if !slices.Contains(cmd, "--authorization-mode=Node,RBAC,Webhook") || slices.Contains(cmd, "--authorization-mode=Node,RBAC") {
		t.Errorf("extraArgs did not replace the default authorization-mode: %v", cmd)
	}
	if !slices.Contains(cmd, "--audit-log-maxage=7") {
		t.Errorf("extra arg missing: %v", cmd)
	}
	if !slices.IsSorted(cmd[1:]) {
		t.Errorf("flags are not sorted: %v", cmd)
	}
}

func TestWriteModes(t *testing.T) {
	pods, err := StaticPods(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "manifests")
	if err := Write(dir, pods); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != DirMode {
		t.Errorf("manifest dir mode %v", fi.Mode().Perm())
	}
	for _, p := range pods {
		fi, err := os.Stat(filepath.Join(dir, p.Name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != FileMode {
			t.Errorf("%s mode %v, want %v", p.Name, fi.Mode().Perm(), os.FileMode(FileMode))
		}
	}
}

func TestIPv6LoopbackForEtcd(t *testing.T) {
	in := testInputs(t)
	in.AdvertiseAddress = net.ParseIP("2001:db8::10")
	pods, err := StaticPods(in)
	if err != nil {
		t.Fatal(err)
	}
	if cmd := pods[1].Spec.Containers[0].Command; !slices.Contains(cmd, "--etcd-servers=https://[::1]:2379") {
		t.Errorf("apiserver should reach etcd on [::1]: %v", cmd)
	}
}

func TestNeedsNode(t *testing.T) {
	in := testInputs(t)
	in.NodeName = ""
	if _, err := StaticPods(in); err == nil {
		t.Error("StaticPods without a node name succeeded")
	}
}

// A slow machine gets about ten minutes to start each component before kubelet restarts it
// (kubeadm's startup budget, about 4 minutes, is below what a TCG control plane needs), while
// a started component keeps kubeadm's liveness budget.
func TestProbeBudgetsForSlowMachines(t *testing.T) {
	pods, err := StaticPods(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	seconds := func(p *corev1.Probe) int32 { return p.InitialDelaySeconds + p.FailureThreshold*p.PeriodSeconds }
	for _, p := range pods {
		c := p.Spec.Containers[0]
		if c.StartupProbe == nil || seconds(c.StartupProbe) < 600 {
			t.Errorf("%s: startup probe %+v allows less than 10 minutes", p.Name, c.StartupProbe)
		}
		if c.LivenessProbe == nil || seconds(c.LivenessProbe) != 90 || c.LivenessProbe.TimeoutSeconds != 15 {
			t.Errorf("%s: liveness probe %+v is not kubeadm's (10 s + 8 × 10 s, 15 s timeout)", p.Name, c.LivenessProbe)
		}
	}
}
