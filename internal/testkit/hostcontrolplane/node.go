package hostcontrolplane

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kilnproject/kiln/internal/agent/manifests"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// createCluster does what "kiln cluster init" does: a default configuration with the API server
// at advertiseAddress:apiPort, and a cluster directory for it at dir.
func (cp *ControlPlane) createCluster(dir, advertiseAddress string, apiPort int) error {
	cp.Config = config.Default()
	cp.Config.Cluster.ControlPlaneEndpoint = cp.Endpoint
	cp.Config.Init.LocalAPIEndpoint = config.APIEndpoint{AdvertiseAddress: advertiseAddress, BindPort: int32(apiPort)}
	cp.Config.Init.NodeRegistration.Name = cp.NodeName
	var err error
	if cp.Dir, err = clusterdir.Create(dir, cp.Config, time.Now()); err != nil {
		return fmt.Errorf("create the cluster directory: %w", err)
	}
	if cp.CAPin, err = cp.Dir.CAPin(); err != nil {
		return err
	}
	if cp.Tokens, err = cp.Dir.Tokens(); err != nil {
		return err
	}
	if len(cp.Tokens) == 0 {
		return fmt.Errorf("cluster directory %s holds no bootstrap token", cp.Dir.Path)
	}
	return nil
}

// renderNode does what the node's first boot does before kubelet starts: it receives the CAs
// and the service-account key pair (Ignition delivers them on a real node) and renders its leaf
// certificates, kubeconfigs and static pods under NodeRoot. It returns the static pods in the
// order of manifests.StaticPods: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.
func (cp *ControlPlane) renderNode(advertiseAddress string) ([]*corev1.Pod, error) {
	pkiDir := filepath.Join(cp.NodeRoot, layout.PKIDir)
	if err := copyTree(cp.Dir.PKIDir(), pkiDir); err != nil {
		return nil, fmt.Errorf("deliver the CAs to the node: %w", err)
	}
	ip := net.ParseIP(advertiseAddress)
	in := &pki.Inputs{Cluster: &cp.Config.Cluster, NodeName: cp.NodeName, AdvertiseAddress: ip}
	if _, err := pki.CreateTree(pkiDir, in); err != nil {
		return nil, err
	}
	kin := &kubeconfig.Inputs{PKI: in, ControlPlaneURL: cp.Config.APIServerURL(), LocalURL: cp.Config.LocalAPIServerURL()}
	if _, err := kubeconfig.Create(filepath.Join(cp.NodeRoot, layout.KubernetesDir), pkiDir, kin, kubeconfig.Files()); err != nil {
		return nil, err
	}
	// The manifests name /etc/kubernetes/pki, as on a node; remap moves the paths at start.
	pods, err := manifests.StaticPods(&manifests.Inputs{Config: cp.Config, NodeName: cp.NodeName, AdvertiseAddress: ip})
	if err != nil {
		return nil, err
	}
	if err := manifests.Write(filepath.Join(cp.NodeRoot, layout.ManifestsDir), pods); err != nil {
		return nil, err
	}
	return pods, nil
}

// copyTree copies the regular files and directories under from to to, keeping file modes.
func copyTree(from, to string) error {
	return filepath.Walk(from, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, fi.Mode().Perm())
	})
}
