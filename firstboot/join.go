package firstboot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kilnproject/kiln/internal/agent/clusterobjects"
	"github.com/kilnproject/kiln/internal/agent/discovery"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Discovery retries: one attempt reads cluster-info every 5 s for up to discoveryAttempt (as
// kubeadm's DiscoveryRetryInterval); a worker that boots before its control plane starts the
// next attempt after a backoff capped at the same 5 s, so the control plane is found within
// seconds of answering, for as long as Timeouts.Discovery allows.
const (
	discoveryAttempt    = 30 * time.Second
	discoveryBackoffMin = 2 * time.Second
	discoveryBackoffMax = 5 * time.Second
)

// joinDiscovery finds and trusts the cluster (token discovery with the CA pin, or file
// discovery with the delivered CA) and writes bootstrap-kubelet.conf and the CA certificate
// kubelet trusts. A node that already has either kubeconfig skips it.
func joinDiscovery(ctx context.Context, n *Node) error {
	for _, name := range []string{layout.KubeletConf, layout.BootstrapKubeletConf} {
		if _, err := kubeconfig.Load(n.path(layout.KubeconfigPath(name))); err == nil {
			n.say("[discovery] %s exists from an earlier run", layout.KubeconfigPath(name))
			return nil
		}
	}
	cfg, err := n.discover(ctx)
	if err != nil {
		return err
	}
	cluster, err := kubeconfig.CurrentCluster(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.path(layout.PKIDir), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(n.path(layout.PKIPath("ca.crt")), cluster.CertificateAuthorityData, 0o644); err != nil {
		return err
	}
	n.say("[discovery] cluster %s at %s trusted", n.Config.ClusterName, cluster.Server)
	return kubeconfig.Write(n.path(layout.KubeconfigPath(layout.BootstrapKubeletConf)), cfg)
}

// discover runs token discovery until it succeeds, fails for good, or Timeouts.Discovery ends.
// With the CA certificate delivered and no pin, it is file discovery and needs no network.
func (n *Node) discover(ctx context.Context) (*clientcmdapi.Config, error) {
	if len(n.Config.CACertHashes) == 0 {
		caPEM, err := os.ReadFile(n.path(nodeconfig.CACertPath))
		if err != nil {
			return nil, err
		}
		return discovery.ByFile("https://"+n.Config.ControlPlaneEndpoint, caPEM, n.Token.Value(), n.Config.ClusterName)
	}
	// next mirrors the schedule's interval, for the console line that announces it.
	next, attempt := discoveryBackoffMin, 0
	var cfg *clientcmdapi.Config
	err := poll.Until(ctx, poll.Backoff(discoveryBackoffMin, discoveryBackoffMax).Within(n.Timeouts.discovery()), func(ctx context.Context) error {
		attempt++
		var err error
		cfg, err = discovery.ByToken(ctx, discovery.TokenOptions{
			Endpoint:    n.Config.ControlPlaneEndpoint,
			Token:       n.Token.Value(),
			CAPins:      n.Config.CACertHashes,
			Timeout:     discoveryAttempt,
			ClusterName: n.Config.ClusterName,
			Logger:      n.Log,
		})
		if err == nil {
			return nil
		}
		if permanent(err) {
			return poll.Stop(err)
		}
		n.report(slog.LevelWarn, fmt.Sprintf("[discovery] attempt %d: %v; trying again in %s", attempt, err, next),
			"discovery failed", "attempt", attempt, "error", err.Error(), "retry_in", next.String())
		next = min(2*next, discoveryBackoffMax)
		return err
	})
	if _, ok := errors.AsType[*poll.TimeoutError](err); ok {
		return nil, fmt.Errorf("no control plane at %s within %s: %w", n.Config.ControlPlaneEndpoint, n.Timeouts.discovery(), err)
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// permanent reports discovery errors no retry can fix: bad input, a server the pin refuses, a
// signature made with another secret.
func permanent(err error) bool {
	return errors.Is(err, discovery.ErrInvalidInput) || errors.Is(err, discovery.ErrUntrustedServer) ||
		errors.Is(err, discovery.ErrJWSInvalid) || errors.Is(err, discovery.ErrContentChanged)
}

// joinKubeletConfig fetches the cluster's KubeletConfiguration (kube-system/kubelet-config,
// readable with the bootstrap token) and writes it with this node's flags.
func joinKubeletConfig(ctx context.Context, n *Node) error {
	name := layout.BootstrapKubeletConf
	if n.exists(layout.KubeconfigPath(layout.KubeletConf)) {
		name = layout.KubeletConf
	}
	client, err := n.clientFrom(name)
	if err != nil {
		return err
	}
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, clusterobjects.KubeletConfigMap, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read kube-system/%s: %w", clusterobjects.KubeletConfigMap, err)
	}
	data, ok := cm.Data["kubelet"]
	if !ok {
		return fmt.Errorf("kube-system/%s has no \"kubelet\" key", clusterobjects.KubeletConfigMap)
	}
	return n.writeKubeletFiles([]byte(data))
}

// waitNodeJoined waits for kubelet's TLS bootstrap (kubelet.conf appears, with a certificate
// the controller manager signed) and for the Node it then registers.
func waitNodeJoined(ctx context.Context, n *Node) error {
	client, err := n.waitKubeletConf(ctx)
	if err != nil {
		return err
	}
	return n.waitNodeRegistered(ctx, client)
}

func (n *Node) waitKubeletConf(ctx context.Context) (kubernetes.Interface, error) {
	path := layout.KubeconfigPath(layout.KubeletConf)
	start := n.now()
	var rc *rest.Config
	every := poll.Every(pollInterval).Within(n.Timeouts.nodeRegistered()).Reporting(n.Timeouts.progress(), n.stillWaiting("kubelet's TLS bootstrap ("+path+")"))
	err := poll.Until(ctx, every, func(context.Context) error {
		var err error
		rc, err = clientcmd.BuildConfigFromFlags("", n.path(path))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kubelet wrote no %s%s: its certificate request was not approved and signed (journalctl -u kubelet; kubectl get csr): %w", path, within(n.Timeouts.nodeRegistered()), err)
	}
	rc.Timeout = clientTimeout
	n.say("[wait] TLS bootstrap done after %s: %s", round(n.now().Sub(start)), path)
	return kubernetes.NewForConfig(rc)
}
