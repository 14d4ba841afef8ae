package nodeconfig

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/cluster/pin"
)

// APIVersion and Kind of the NodeConfig document.
const (
	APIVersion = "kiln.dev/v1alpha1"
	Kind       = "NodeConfig"
)

// Role is what a node becomes on first boot.
type Role string

// The roles a node can have.
const (
	RoleControlPlane Role = "control-plane"
	RoleWorker       Role = "worker"
)

// Roles lists the valid roles.
var Roles = []Role{RoleControlPlane, RoleWorker}

// ErrInvalid marks node files that do not follow the contract.
var ErrInvalid = errors.New("invalid node configuration")

// ParseRole checks that s names a role.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: role %q: want %q or %q", ErrInvalid, s, RoleControlPlane, RoleWorker)
}

// NodeConfig is /etc/kiln/node.yaml: who the node is and which cluster it belongs to.
type NodeConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`

	// Role is control-plane (initialise the cluster) or worker (join it).
	Role Role `json:"role"`
	// NodeName is the Node object's name; empty means the hostname at boot.
	NodeName string `json:"nodeName,omitempty"`
	// ClusterName is kubeadm's clusterName.
	ClusterName string `json:"clusterName"`
	// ControlPlaneEndpoint is where the API server is reached, as host:port.
	ControlPlaneEndpoint string `json:"controlPlaneEndpoint"`
	// NodeIP is the node's address on the cluster network: kubelet's --node-ip and, on a
	// control plane, the API server's advertise address. Empty means the address the node
	// reaches ControlPlaneEndpoint from.
	NodeIP string `json:"nodeIP,omitempty"`
	// CACertHashes are the pins ("sha256:<64 hex>") a joining node checks the cluster CA
	// against. A worker needs at least one unless CACertPath is present.
	CACertHashes []string `json:"caCertHashes,omitempty"`
	// KubernetesVersion is the cluster's version, such as v1.36.3.
	KubernetesVersion string `json:"kubernetesVersion"`
}

// New returns a NodeConfig with its apiVersion and kind set.
func New(role Role) *NodeConfig {
	return &NodeConfig{APIVersion: APIVersion, Kind: Kind, Role: role}
}

// Validate checks every field on its own; Read also checks the worker's discovery files.
// Problems are reported with the field's name, as in "role: Unsupported value: ...".
func (c *NodeConfig) Validate() error {
	var errs field.ErrorList
	if c.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), c.APIVersion, []string{APIVersion}))
	}
	if c.Kind != Kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), c.Kind, []string{Kind}))
	}
	if _, err := ParseRole(string(c.Role)); err != nil {
		errs = append(errs, field.NotSupported(field.NewPath("role"), c.Role, Roles))
	}
	if c.NodeName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(c.NodeName) {
			errs = append(errs, field.Invalid(field.NewPath("nodeName"), c.NodeName, msg))
		}
	}
	if c.ClusterName == "" {
		errs = append(errs, field.Required(field.NewPath("clusterName"), ""))
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(c.ClusterName) {
			errs = append(errs, field.Invalid(field.NewPath("clusterName"), c.ClusterName, msg))
		}
	}
	if err := validateEndpoint(c.ControlPlaneEndpoint); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("controlPlaneEndpoint"), c.ControlPlaneEndpoint, err.Error()))
	}
	if c.NodeIP != "" && net.ParseIP(c.NodeIP) == nil {
		errs = append(errs, field.Invalid(field.NewPath("nodeIP"), c.NodeIP, "not an IP address"))
	}
	for i, h := range c.CACertHashes {
		if err := pin.Validate(h); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("caCertHashes").Index(i), h, "want sha256: followed by 64 lowercase hex digits"))
		}
	}
	if c.KubernetesVersion == "" {
		errs = append(errs, field.Required(field.NewPath("kubernetesVersion"), ""))
	} else if _, err := version.ParseSemantic(c.KubernetesVersion); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("kubernetesVersion"), c.KubernetesVersion, "not a semantic version such as v1.36.3"))
	}
	if err := errs.ToAggregate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// validateEndpoint checks host:port, with a port and a host that is an IP address or a DNS
// name.
func validateEndpoint(ep string) error {
	if ep == "" {
		return errors.New("required, as host:port")
	}
	host, portStr, err := net.SplitHostPort(ep)
	if err != nil {
		return fmt.Errorf("want host:port: %v", err)
	}
	if port, err := strconv.Atoi(portStr); err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("port %q is not between 1 and 65535", portStr)
	}
	if net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(host)) > 0 {
		return fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
	}
	return nil
}

// Marshal validates c and returns it as YAML.
func (c *NodeConfig) Marshal() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode node configuration: %w", err)
	}
	return data, nil
}
