package firstboot

import (
	"context"
	"os"
	"time"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// RoutesUnit keeps routes to the other nodes' pod ranges.
const RoutesUnit = "kiln-routes.service"

// handoff ends the first boot: the stamp that keeps kiln-firstboot.service from running again,
// and the pod-route keeper, which needed the kubelet.conf the node now has.
func handoff(ctx context.Context, n *Node) error {
	if err := n.Systemd.Start(ctx, RoutesUnit); err != nil {
		return err
	}
	if err := os.MkdirAll(n.path(StateDir), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(n.path(DoneStamp), []byte(n.now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	if n.isControlPlane() {
		n.say("[handoff] the control plane is up: kubectl --kubeconfig %s get nodes", layout.KubeconfigPath(layout.AdminConf))
	}
	return nil
}
