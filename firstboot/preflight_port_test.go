package firstboot

import (
	"slices"
	"testing"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

// A control plane whose API server binds another port than 6443 has that port checked, not
// 6443; a worker and a control plane without a readable configuration check kubeadm's default.
func TestPreflightChecksTheAPIServerBindPort(t *testing.T) {
	root := t.TempDir()
	n, _, _ := testNode(root)
	if got := n.apiServerBindPort(nodeconfig.RoleControlPlane); got != 6443 {
		t.Errorf("no configuration: port %d, want 6443", got)
	}
	write(t, root, nodeconfig.ClusterConfigPath, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  bindPort: 7443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.36.3
controlPlaneEndpoint: 192.168.100.10:7443
`), 0o600)
	if got := n.apiServerBindPort(nodeconfig.RoleControlPlane); got != 7443 {
		t.Fatalf("bindPort 7443: port %d", got)
	}
	if got := n.apiServerBindPort(nodeconfig.RoleWorker); got != 6443 {
		t.Errorf("worker: port %d, want 6443", got)
	}
	var names []string
	for _, c := range checks(7443) {
		if c.on == nodeconfig.RoleControlPlane {
			names = append(names, c.name)
		}
	}
	if !slices.Contains(names, "Port-7443") || slices.Contains(names, "Port-6443") {
		t.Errorf("control-plane checks %v, want Port-7443 and no Port-6443", names)
	}
	for _, want := range []string{"Port-2379", "Port-2380", "Port-10257", "Port-10259"} {
		if !slices.Contains(names, want) {
			t.Errorf("control-plane checks lack %s", want)
		}
	}
}

// A control plane starts making its keys when preflight starts; a worker and a resumed first
// boot do not.
func TestKeysAreMadeWhilePreflightRuns(t *testing.T) {
	controlPlane := func(t *testing.T) *Node {
		root := t.TempDir()
		write(t, root, nodeconfig.ClusterConfigPath, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.36.3\nencryptionAlgorithm: ECDSA-P256\ncontrolPlaneEndpoint: 192.168.100.10:6443\n"), 0o600)
		n, _, _ := testNode(root)
		n.Config = &nodeconfig.NodeConfig{Role: nodeconfig.RoleControlPlane} // as read from node.yaml
		return n
	}
	n := controlPlane(t)
	n.startKeyPool()
	defer n.keys.Stop()
	n.Cluster = &config.Config{} // as the config phase leaves it
	if n.keys == nil || n.pkiInputs().Keys != n.keys {
		t.Fatal("a control plane's preflight started no key pool for init/certs")
	}
	if k, err := n.keys.Key("ECDSA-P256"); err != nil || k == nil {
		t.Errorf("the pool's key: %v", err)
	}

	resumed := controlPlane(t)
	write(t, resumed.Root, StartedStamp, []byte("earlier\n"), 0o644)
	if resumed.startKeyPool(); resumed.keys != nil {
		t.Error("a resumed first boot makes keys it has already")
	}
	worker, _, _ := testNode(workerRoot(t))
	if worker.startKeyPool(); worker.keys != nil {
		t.Error("a worker makes control-plane keys")
	}
}
