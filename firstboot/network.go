package firstboot

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// configurePodNetwork waits for the node's pod CIDR and writes the CNI configuration for it:
// the bridge plugin with host-local addresses from that range. Routes to other nodes' ranges
// are kiln-routes.service's job (see package podroutes).
func configurePodNetwork(ctx context.Context, n *Node) error {
	client, err := n.clientFrom(layout.KubeletConf)
	if err != nil {
		return err
	}
	node, err := n.waitNode(ctx, client, "given a pod CIDR", n.Timeouts.podCIDR(), nodeHasPodCIDR)
	if err != nil {
		return fmt.Errorf("%w (the controller manager allocates pod CIDRs: is --allocate-node-cidrs on and the pod subnet large enough?)", err)
	}
	data, err := CNIConfig(node.Spec.PodCIDR)
	if err != nil {
		return err
	}
	path := n.path(CNIConfigPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	n.say("[pod-network] pods on this node get addresses from %s", node.Spec.PodCIDR)
	return nil
}

// nodeHasPodCIDR is true once the controller manager allocated the node's pod range.
func nodeHasPodCIDR(node *corev1.Node) bool { return node.Spec.PodCIDR != "" }

// CNIConfig is the CNI configuration list of a node whose pods use podCIDR: a bridge (cni0) as
// the pods' gateway, masquerading what leaves the node's range, and port mappings.
func CNIConfig(podCIDR string) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "kiln",
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      "cni0",
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
