package firstboot

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kilnproject/kiln/internal/agent/clusterobjects"
	"github.com/kilnproject/kiln/internal/agent/kubeletconfig"
	"github.com/kilnproject/kiln/internal/agent/manifests"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// pkiInputs describes this node to the certificate table.
func (n *Node) pkiInputs() *pki.Inputs {
	return &pki.Inputs{Cluster: &n.Cluster.Cluster, NodeName: n.Name, AdvertiseAddress: n.IP, Keys: n.keys}
}

// initCerts makes this node's leaf certificates (API server with the node's real address, etcd
// server and peer, the clients) from the CAs Ignition delivered. Valid existing files stay.
func initCerts(_ context.Context, n *Node) error {
	results, err := pki.CreateTree(n.path(layout.PKIDir), n.pkiInputs())
	if err != nil {
		return err
	}
	created := 0
	for _, r := range results {
		if r.Action == pki.Created {
			created++
		}
	}
	n.say("[certs] %d certificates and keys in %s (%d new)", len(results), layout.PKIDir, created)
	return nil
}

// initKubeconfigs writes admin.conf, super-admin.conf, kubelet.conf, controller-manager.conf
// and scheduler.conf. admin.conf stays for the operator.
func initKubeconfigs(_ context.Context, n *Node) error {
	in := &kubeconfig.Inputs{PKI: n.pkiInputs(), ControlPlaneURL: n.Cluster.APIServerURL(), LocalURL: n.Cluster.LocalAPIServerURL()}
	results, err := kubeconfig.Create(n.path(layout.KubernetesDir), n.path(layout.PKIDir), in, kubeconfig.Files())
	if err != nil {
		return err
	}
	n.keys.Stop() // every key is made: the keys still in the pool, if any, are dropped
	n.say("[kubeconfig] %d kubeconfig files in %s", len(results), layout.KubernetesDir)
	return nil
}

// initKubeletConfig writes kubelet's config.yaml and kubeadm-flags.env.
func initKubeletConfig(_ context.Context, n *Node) error {
	cfg, err := kubeletconfig.For(&n.Cluster.Cluster)
	if err != nil {
		return err
	}
	data, err := kubeletconfig.Marshal(cfg)
	if err != nil {
		return err
	}
	return n.writeKubeletFiles(data)
}

// initManifests writes the static pods of etcd and the control plane.
func initManifests(_ context.Context, n *Node) error {
	pods, err := manifests.StaticPods(&manifests.Inputs{Config: n.Cluster, NodeName: n.Name, AdvertiseAddress: n.IP})
	if err != nil {
		return err
	}
	return manifests.Write(n.path(layout.ManifestsDir), pods)
}

// applyClusterObjects applies what kubeadm's later init phases create, with super-admin.conf
// as kubeadm does: the admin binding, kubeadm-config and kubelet-config, the bootstrap tokens
// and cluster-info, CoreDNS and kube-proxy. Objects that already hold kiln's content are not
// written, so a rerun changes nothing. While the API server does not answer, the whole set is
// applied again (retryAPI).
func applyClusterObjects(ctx context.Context, n *Node) error {
	client, err := n.clientFrom(layout.SuperAdminConf)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(n.path(layout.PKIPath("ca.crt")))
	if err != nil {
		return err
	}
	in := &clusterobjects.Inputs{Config: n.Cluster, CACertPEM: caPEM, ControlPlaneURL: n.Cluster.APIServerURL(), Tokens: n.Tokens}
	// A retry applies everything again: what is already there is left unchanged.
	return retryAPI(ctx, n, "cluster-objects", func(ctx context.Context) error {
		return clusterobjects.Apply(ctx, client, in, func(step string) {
			n.report(slog.LevelInfo, "[cluster-objects] "+step, "cluster objects", "step", step)
		})
	})
}

// markControlPlane labels and taints this node as kubeadm does, once kubelet registered it.
func markControlPlane(ctx context.Context, n *Node) error {
	client, err := n.clientFrom(layout.AdminConf)
	if err != nil {
		return err
	}
	if err := n.waitNodeRegistered(ctx, client); err != nil {
		return err
	}
	return retryAPI(ctx, n, "mark-control-plane", func(ctx context.Context) error {
		return clusterobjects.MarkControlPlane(ctx, client, n.Name)
	})
}

// clientFrom makes a client from a kubeconfig file under /etc/kubernetes.
func (n *Node) clientFrom(name string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", n.path(layout.KubeconfigPath(name)))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", layout.KubeconfigPath(name), err)
	}
	rc.Timeout = clientTimeout
	return kubernetes.NewForConfig(rc)
}
