package firstboot

import "time"

// Timeouts bound the agent's waits.
//
// A wait on the node itself has a limit by default: an address from the network, the baked
// images in containerd. A wait on the rest of the cluster has none: kubelet answering, the API
// server, the controller manager and scheduler, the Node, the approval of kubelet's certificate
// request, the pod CIDR. On a slow machine (a VM without hardware virtualisation starts a
// control plane in minutes, and a worker may boot long before its control plane) those
// conditions are only late, never failed, so the agent keeps waiting and says at least every
// Progress what it waits for, for how long already, and the last answer. Only a permanent error
// stops a first boot (a wrong CA pin, a rejected token, an invalid config). A field set above
// zero bounds its wait; tests do that.
type Timeouts struct {
	// Address: the network gives the node an address to reach the control plane from.
	Address time.Duration
	// Images: every baked image is imported into containerd.
	Images time.Duration
	// KubeletHealthy: kubelet answers on its healthz port. Default: no limit.
	KubeletHealthy time.Duration
	// APIServerReady: the API server answers /readyz after kubelet started it, and answers the
	// agent's API calls (cluster objects, labels). Default: no limit.
	APIServerReady time.Duration
	// ControlPlaneHealthy: controller manager and scheduler answer /healthz. Default: no limit.
	ControlPlaneHealthy time.Duration
	// NodeRegistered: kubelet registered the Node (after the TLS bootstrap on a worker).
	// Default: no limit.
	NodeRegistered time.Duration
	// PodCIDR: the controller manager gave the Node a pod CIDR. Default: no limit.
	PodCIDR time.Duration
	// Discovery: a worker finds the control plane; within this, it retries every few seconds.
	Discovery time.Duration
	// Progress is not a timeout: how often a long wait says on the console and in the journal
	// what it waits for, for how long already, and the last answer.
	Progress time.Duration
}

// The defaults of the bounded waits.
const (
	DefaultAddressTimeout   = 2 * time.Minute
	DefaultImagesTimeout    = 20 * time.Minute
	DefaultDiscoveryTimeout = 24 * time.Hour
	DefaultProgressInterval = time.Minute
)

func pick(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (t Timeouts) address() time.Duration   { return pick(t.Address, DefaultAddressTimeout) }
func (t Timeouts) images() time.Duration    { return pick(t.Images, DefaultImagesTimeout) }
func (t Timeouts) discovery() time.Duration { return pick(t.Discovery, DefaultDiscoveryTimeout) }
func (t Timeouts) progress() time.Duration  { return pick(t.Progress, DefaultProgressInterval) }

// The waits on the cluster: 0 means no limit (poll's Within(0)).
func (t Timeouts) kubeletHealthy() time.Duration      { return t.KubeletHealthy }
func (t Timeouts) apiServerReady() time.Duration      { return t.APIServerReady }
func (t Timeouts) controlPlaneHealthy() time.Duration { return t.ControlPlaneHealthy }
func (t Timeouts) nodeRegistered() time.Duration      { return t.NodeRegistered }
func (t Timeouts) podCIDR() time.Duration             { return t.PodCIDR }

// within words a limit for a message: " within 5m0s", or "" for no limit.
func within(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " within " + d.String()
}
