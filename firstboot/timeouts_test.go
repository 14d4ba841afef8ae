package firstboot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The waits on the rest of the cluster have no limit unless one is set; the waits on the node
// itself keep theirs.
func TestClusterWaitsHaveNoLimitByDefault(t *testing.T) {
	var zero Timeouts
	for name, d := range map[string]time.Duration{
		"kubelet healthy": zero.kubeletHealthy(), "API server ready": zero.apiServerReady(),
		"controllers healthy": zero.controlPlaneHealthy(), "Node registered": zero.nodeRegistered(),
		"pod CIDR": zero.podCIDR(),
	} {
		if d != 0 {
			t.Errorf("%s: limit %s by default, want none", name, d)
		}
	}
	if zero.address() != DefaultAddressTimeout || zero.images() != DefaultImagesTimeout || zero.discovery() != DefaultDiscoveryTimeout {
		t.Errorf("the node's own waits lost their defaults: %s, %s, %s", zero.address(), zero.images(), zero.discovery())
	}
	if set := (Timeouts{NodeRegistered: time.Minute}); set.nodeRegistered() != time.Minute {
		t.Errorf("a set limit is not kept: %s", set.nodeRegistered())
	}
}

// Without a limit, a wait ends only when its condition holds or the agent is stopped, and the
// error then names no limit.
func TestUnlimitedWaitEndsOnlyWithItsContext(t *testing.T) {
	n, _, _ := testNode(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	client := localHealthClient()
	err := waitHTTP(ctx, n, "kubelet", "http://127.0.0.1:1/healthz", client, n.Timeouts.kubeletHealthy())
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want the context's end and no timeout of its own", err)
	}
	if strings.Contains(err.Error(), "within") {
		t.Errorf("err = %q names a limit there is none of", err)
	}
}
