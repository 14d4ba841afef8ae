package firstboot

import "context"

// WaitAPIServer is waitAPIServer, for the external tests that run a real control plane (package
// hostcontrolplane runs the phases, so it imports this package).
func WaitAPIServer(ctx context.Context, n *Node, endpoint string) error {
	return waitAPIServer(ctx, n, endpoint)
}
