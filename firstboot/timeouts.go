package firstboot

import "time"

// Timeouts bound the agent's waits. Zero fields take the defaults below, chosen for a slow
// machine (a VM without hardware virtualisation starts a control plane in minutes).
type Timeouts struct {
	// Address: the network gives the node an address to reach the control plane from.
	Address time.Duration
	// Images: every baked image is imported into containerd.
	Images time.Duration
	// KubeletHealthy: kubelet answers on its healthz port.
	KubeletHealthy time.Duration
	// APIServerReady: the API server answers /readyz after kubelet started it.
	APIServerReady time.Duration
	// ControlPlaneHealthy: controller manager and scheduler answer /healthz.
	ControlPlaneHealthy time.Duration
	// NodeRegistered: kubelet registered the Node (after the TLS bootstrap on a worker).
	NodeRegistered time.Duration
	// PodCIDR: the controller manager gave the Node a pod CIDR.
	PodCIDR time.Duration
	// Discovery: a worker finds the control plane; within this, it retries with backoff.
	Discovery time.Duration
	// Progress is not a timeout: how often a long wait says on the console and in the journal
	// what it waits for, for how long already, and the last answer.
	Progress time.Duration
}

// The defaults.
const (
	DefaultAddressTimeout             = 2 * time.Minute
	DefaultImagesTimeout              = 20 * time.Minute
	DefaultKubeletHealthyTimeout      = 4 * time.Minute
	DefaultAPIServerReadyTimeout      = 10 * time.Minute
	DefaultControlPlaneHealthyTimeout = 5 * time.Minute
	DefaultNodeRegisteredTimeout      = 5 * time.Minute
	DefaultPodCIDRTimeout             = 5 * time.Minute
	DefaultDiscoveryTimeout           = 24 * time.Hour
	DefaultProgressInterval           = time.Minute
)

func pick(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (t Timeouts) address() time.Duration { return pick(t.Address, DefaultAddressTimeout) }
func (t Timeouts) images() time.Duration  { return pick(t.Images, DefaultImagesTimeout) }
func (t Timeouts) kubeletHealthy() time.Duration {
	return pick(t.KubeletHealthy, DefaultKubeletHealthyTimeout)
}
func (t Timeouts) apiServerReady() time.Duration {
	return pick(t.APIServerReady, DefaultAPIServerReadyTimeout)
}
func (t Timeouts) controlPlaneHealthy() time.Duration {
	return pick(t.ControlPlaneHealthy, DefaultControlPlaneHealthyTimeout)
}
func (t Timeouts) nodeRegistered() time.Duration {
	return pick(t.NodeRegistered, DefaultNodeRegisteredTimeout)
}
func (t Timeouts) podCIDR() time.Duration   { return pick(t.PodCIDR, DefaultPodCIDRTimeout) }
func (t Timeouts) discovery() time.Duration { return pick(t.Discovery, DefaultDiscoveryTimeout) }
func (t Timeouts) progress() time.Duration  { return pick(t.Progress, DefaultProgressInterval) }
