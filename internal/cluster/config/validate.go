package config

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// SupportedMinor is the Kubernetes minor version whose manifests and flags kiln renders.
const SupportedMinor = 36

var encryptionAlgorithms = []string{EncryptionRSA2048, EncryptionRSA3072, EncryptionRSA4096, EncryptionECDSAP256, EncryptionECDSAP384}

// Validate checks a defaulted ClusterConfiguration. Every problem is reported with the path of
// its field, as in "networking.serviceSubnet: Invalid value: ...".
func (c *ClusterConfiguration) Validate() error {
	var errs field.ErrorList
	if v, err := version.ParseSemantic(c.KubernetesVersion); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("kubernetesVersion"), c.KubernetesVersion, "not a semantic version such as v1.36.3"))
	} else if v.Major() != 1 || v.Minor() != SupportedMinor {
		errs = append(errs, field.NotSupported(field.NewPath("kubernetesVersion"), c.KubernetesVersion, []string{fmt.Sprintf("v1.%d.x", SupportedMinor)}))
	}
	for _, msg := range validation.IsDNS1123Subdomain(c.ClusterName) {
		errs = append(errs, field.Invalid(field.NewPath("clusterName"), c.ClusterName, msg))
	}
	if c.ControlPlaneEndpoint != "" {
		if _, _, err := SplitEndpoint(c.ControlPlaneEndpoint, DefaultAPIBindPort); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("controlPlaneEndpoint"), c.ControlPlaneEndpoint, err.Error()))
		}
	}
	if !path.IsAbs(c.CertificatesDir) {
		errs = append(errs, field.Invalid(field.NewPath("certificatesDir"), c.CertificatesDir, "must be an absolute path"))
	}
	if !contains(encryptionAlgorithms, c.EncryptionAlgorithm) {
		errs = append(errs, field.NotSupported(field.NewPath("encryptionAlgorithm"), c.EncryptionAlgorithm, encryptionAlgorithms))
	}
	errs = append(errs, c.validateNetworking(field.NewPath("networking"))...)
	errs = append(errs, validateComponent(&c.APIServer.ControlPlaneComponent, field.NewPath("apiServer"))...)
	errs = append(errs, validateSANs(c.APIServer.CertSANs, field.NewPath("apiServer", "certSANs"))...)
	errs = append(errs, validateComponent(&c.ControllerManager, field.NewPath("controllerManager"))...)
	errs = append(errs, validateComponent(&c.Scheduler, field.NewPath("scheduler"))...)
	if l := c.Etcd.Local; l != nil {
		p := field.NewPath("etcd", "local")
		errs = append(errs, validateArgs(l.ExtraArgs, p.Child("extraArgs"))...)
		errs = append(errs, validateSANs(l.ServerCertSANs, p.Child("serverCertSANs"))...)
		errs = append(errs, validateSANs(l.PeerCertSANs, p.Child("peerCertSANs"))...)
		if !path.IsAbs(l.DataDir) {
			errs = append(errs, field.Invalid(p.Child("dataDir"), l.DataDir, "must be an absolute path"))
		}
	}
	leaf, ca := c.CertificateValidityPeriod.Duration, c.CACertificateValidityPeriod.Duration
	if leaf <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("certificateValidityPeriod"), leaf.String(), "must be positive"))
	}
	if ca <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("caCertificateValidityPeriod"), ca.String(), "must be positive"))
	} else if leaf > ca {
		errs = append(errs, field.Invalid(field.NewPath("certificateValidityPeriod"), leaf.String(), "must not exceed caCertificateValidityPeriod"))
	}
	return errs.ToAggregate()
}

func (c *ClusterConfiguration) validateNetworking(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, svc, err := net.ParseCIDR(c.Networking.ServiceSubnet); err != nil {
		errs = append(errs, field.Invalid(p.Child("serviceSubnet"), c.Networking.ServiceSubnet, "not a CIDR"))
	} else if ones, bits := svc.Mask.Size(); bits-ones < 4 {
		errs = append(errs, field.Invalid(p.Child("serviceSubnet"), c.Networking.ServiceSubnet, "too small: the DNS service takes its 10th address"))
	}
	if _, _, err := net.ParseCIDR(c.Networking.PodSubnet); err != nil {
		errs = append(errs, field.Invalid(p.Child("podSubnet"), c.Networking.PodSubnet, "not a CIDR"))
	}
	for _, msg := range validation.IsDNS1123Subdomain(c.Networking.DNSDomain) {
		errs = append(errs, field.Invalid(p.Child("dnsDomain"), c.Networking.DNSDomain, msg))
	}
	return errs
}

func validateComponent(c *ControlPlaneComponent, p *field.Path) field.ErrorList {
	errs := validateArgs(c.ExtraArgs, p.Child("extraArgs"))
	names := map[string]bool{}
	for i, v := range c.ExtraVolumes {
		vp := p.Child("extraVolumes").Index(i)
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			errs = append(errs, field.Invalid(vp.Child("name"), v.Name, msg))
		}
		if names[v.Name] {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		}
		names[v.Name] = true
		if !path.IsAbs(v.HostPath) {
			errs = append(errs, field.Invalid(vp.Child("hostPath"), v.HostPath, "must be an absolute path"))
		}
		if !path.IsAbs(v.MountPath) {
			errs = append(errs, field.Invalid(vp.Child("mountPath"), v.MountPath, "must be an absolute path"))
		}
	}
	return errs
}

func validateArgs(args []Arg, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, a := range args {
		if a.Name == "" || strings.HasPrefix(a.Name, "-") || strings.ContainsAny(a.Name, "= \t") {
			errs = append(errs, field.Invalid(p.Index(i).Child("name"), a.Name, "must be a flag name without leading dashes, such as \"audit-log-path\""))
		}
	}
	return errs
}

func validateSANs(sans []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, san := range sans {
		if net.ParseIP(san) != nil {
			continue
		}
		if msgs := validation.IsDNS1123Subdomain(strings.TrimPrefix(san, "*.")); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p.Index(i), san, "neither an IP address nor a DNS name"))
		}
	}
	return errs
}

// Validate checks a defaulted InitConfiguration.
func (c *InitConfiguration) Validate() error {
	var errs field.ErrorList
	if n := c.NodeRegistration.Name; n != "" {
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			errs = append(errs, field.Invalid(field.NewPath("nodeRegistration", "name"), n, msg))
		}
	}
	if a := c.LocalAPIEndpoint.AdvertiseAddress; a != "" && net.ParseIP(a) == nil {
		errs = append(errs, field.Invalid(field.NewPath("localAPIEndpoint", "advertiseAddress"), a, "not an IP address"))
	}
	if p := c.LocalAPIEndpoint.BindPort; p < 1 || p > 65535 {
		errs = append(errs, field.Invalid(field.NewPath("localAPIEndpoint", "bindPort"), p, "must be between 1 and 65535"))
	}
	for i := range c.BootstrapTokens {
		errs = append(errs, c.BootstrapTokens[i].validate(field.NewPath("bootstrapTokens").Index(i))...)
	}
	return errs.ToAggregate()
}

func (t *BootstrapToken) validate(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Token != "" && !bootstraputil.IsValidBootstrapToken(t.Token) {
		// The value is a secret: never echo it.
		errs = append(errs, field.Invalid(p.Child("token"), "<redacted>", "must match [a-z0-9]{6}.[a-z0-9]{16}"))
	}
	if t.TTL != nil && t.TTL.Duration < 0 {
		errs = append(errs, field.Invalid(p.Child("ttl"), t.TTL.Duration.String(), "must not be negative (0 means never expires)"))
	}
	if t.TTL != nil && t.Expires != nil {
		errs = append(errs, field.Forbidden(p.Child("expires"), "set either ttl or expires, not both"))
	}
	if err := bootstraputil.ValidateUsages(t.Usages); err != nil {
		errs = append(errs, field.Invalid(p.Child("usages"), t.Usages, err.Error()))
	}
	for i, g := range t.Groups {
		if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
			errs = append(errs, field.Invalid(p.Child("groups").Index(i), g, err.Error()))
		}
	}
	return errs
}

// SplitEndpoint splits "host[:port]" into its host and port, using defaultPort when the port is
// absent. IPv6 hosts are written in brackets.
func SplitEndpoint(endpoint string, defaultPort int) (string, int, error) {
	host, portStr, err := net.SplitHostPort(endpoint)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			host, portStr = strings.Trim(endpoint, "[]"), strconv.Itoa(defaultPort)
		} else {
			return "", 0, fmt.Errorf("not host[:port]: %w", err)
		}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not between 1 and 65535", portStr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("the host is empty")
	}
	if net.ParseIP(host) == nil {
		if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
			return "", 0, fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
		}
	}
	return host, port, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
