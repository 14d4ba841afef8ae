package firstboot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// KubeletUnit is kubelet's systemd unit.
const KubeletUnit = "kubelet.service"

// writeKubeletFiles writes config.yaml (the cluster's KubeletConfiguration) and
// kubeadm-flags.env (this node's flags) for the drop-in in units/.
func (n *Node) writeKubeletFiles(config []byte) error {
	dir := n.path(layout.KubeletDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, layout.KubeletConfigFile), config, 0o644); err != nil {
		return err
	}
	flags := fmt.Sprintf("KUBELET_KUBEADM_ARGS=\"--node-ip=%s --hostname-override=%s\"\n", n.IP, n.Name)
	return atomicfile.WriteFile(filepath.Join(dir, layout.KubeletFlagsEnvFile), []byte(flags), 0o644)
}

// startKubelet starts kubelet through systemd and waits for its health endpoint. A kubelet
// already running (an earlier run started it) is left alone.
func startKubelet(ctx context.Context, n *Node) error {
	active, err := n.Systemd.Active(ctx, KubeletUnit)
	if err != nil {
		return err
	}
	if !active {
		if err := n.Systemd.Start(ctx, KubeletUnit); err != nil {
			return err
		}
	}
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", n.localPort(kubeadm.KubeletHealthzPort))
	return waitHTTP(ctx, n, "kubelet", healthz, localHealthClient(), n.Timeouts.kubeletHealthy())
}
