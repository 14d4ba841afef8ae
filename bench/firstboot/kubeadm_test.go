package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/ignition/v2/config/v3_6/types"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplane"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

// TestKubeadmVariantIgnition renders both nodes' Ignition configs of the kubeadm variant and
// checks what they carry: kiln's first boot masked, the kubeadm unit enabled, and kubeadm
// configurations that stock kubeadm accepts (checked with the pinned "kubeadm config validate"
// when KILN_K8S_BIN names the pinned binaries, as make test does).
func TestKubeadmVariantIgnition(t *testing.T) {
	cfg := config.Default()
	cfg.Cluster.ClusterName = "kiln"
	cfg.Cluster.ControlPlaneEndpoint = vmcluster.ControlPlaneIP + ":6443"
	dir, err := clusterdir.Create(filepath.Join(t.TempDir(), "cluster"), cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := &vmcluster.Plan{Cluster: dir, Options: vmcluster.Options{ExtraButane: kubeadmButane}}
	binDir, err := hostcontrolplane.BinDirFromEnv()
	if errors.Is(err, hostcontrolplane.ErrNoBinaries) {
		t.Log("no pinned kubeadm: the configurations are not validated by kubeadm")
	} else if err != nil {
		t.Fatal(err)
	}
	tokens, err := dir.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	nodes := []struct {
		role          nodeconfig.Role
		name, mac, ip string
		kind, action  string
	}{
		{nodeconfig.RoleControlPlane, vmcluster.ControlPlaneName, vmcluster.ControlPlaneMAC, vmcluster.ControlPlaneIP, "InitConfiguration", "kubeadm init"},
		{nodeconfig.RoleWorker, vmcluster.WorkerName, vmcluster.WorkerMAC, vmcluster.WorkerIP, "JoinConfiguration", "kubeadm join"},
	}
	for _, n := range nodes {
		ign, err := p.NodeIgnition(n.role, n.name, n.mac, n.ip)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		var c types.Config
		if err := yaml.Unmarshal(ign, &c); err != nil {
			t.Fatal(err)
		}
		units := map[string]types.Unit{}
		for _, u := range c.Systemd.Units {
			units[u.Name] = u
		}
		if u := units["kiln-firstboot.service"]; u.Mask == nil || !*u.Mask {
			t.Errorf("%s: kiln-firstboot.service is not masked", n.name)
		}
		if u := units[kubeadmUnit]; u.Enabled == nil || !*u.Enabled {
			t.Errorf("%s: %s is not enabled", n.name, kubeadmUnit)
		}
		files, err := ignitionconfig.DecodeFiles(ign)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]ignitionconfig.File{}
		for _, f := range files {
			got[f.Path] = f
		}
		if _, ok := got["/etc/systemd/network/10-cluster.network"]; !ok {
			t.Errorf("%s: the network snippet was lost in the merge", n.name)
		}
		kc, ok := got[kubeadmConfig]
		if !ok || kc.Mode != 0o600 {
			t.Fatalf("%s: %s missing or not 0600: %+v", n.name, kubeadmConfig, kc.Mode)
		}
		text := string(kc.Contents)
		for _, want := range []string{"kind: " + n.kind, tokens[0].Value(), "imagePullPolicy: Never", "value: " + n.ip} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: %s lacks %q", n.name, kubeadmConfig, want)
			}
		}
		if hosts := string(got["/etc/hosts"].Contents); !strings.Contains(hosts, n.ip+"\t"+n.name+"\n") {
			t.Errorf("%s: /etc/hosts does not name the node:\n%s", n.name, hosts)
		}
		if script := string(got[kubeadmScript].Contents); !strings.Contains(script, n.action+" --config "+kubeadmConfig) {
			t.Errorf("%s: the script does not run %s:\n%s", n.name, n.action, script)
		}
		if binDir != "" {
			path := filepath.Join(t.TempDir(), "kubeadm.yaml")
			if err := os.WriteFile(path, kc.Contents, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(filepath.Join(binDir, "kubeadm"), "config", "validate", "--config", path).CombinedOutput(); err != nil {
				t.Errorf("%s: kubeadm config validate: %v\n%s", n.name, err, out)
			}
		}
	}
}
