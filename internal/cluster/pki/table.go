package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/config"
)

// Inputs are the cluster- and node-specific values certificates depend on. NodeName and
// AdvertiseAddress are needed only for the leaf certificates of a control-plane node.
type Inputs struct {
	Cluster          *config.ClusterConfiguration
	NodeName         string
	AdvertiseAddress net.IP
	// Keys, when set, hands out keys generated ahead of need; nil generates each when needed.
	Keys *KeyPool
}

// NewKey returns a private key of the cluster's algorithm, from Keys when it is set.
func (in *Inputs) NewKey() (crypto.Signer, error) {
	return in.Keys.Key(KeyAlgorithm(in.Cluster.EncryptionAlgorithm))
}

// Cert is one row of kubeadm's certificate table.
type Cert struct {
	// Name is kubeadm's phase name ("apiserver", "etcd-server").
	Name string
	// BaseName is the file name under the PKI directory without extension ("etcd/server").
	BaseName string
	// CA is the BaseName of the signer; empty for a self-signed CA.
	CA string
	// Config computes what the certificate says, from the cluster and node inputs.
	Config func(in *Inputs) (CertConfig, error)
}

// IsCA reports whether c is a self-signed certificate authority.
func (c Cert) IsCA() bool { return c.CA == "" }

// Base names of the three CAs and the service-account key pair.
const (
	CABaseName           = "ca"
	FrontProxyCABaseName = "front-proxy-ca"
	EtcdCABaseName       = "etcd/ca"
	SABaseName           = "sa"
)

var (
	serverAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	// etcd uses its server and peer certificates as clients too (etcd-io/etcd#9785).
	serverAndClient = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

// Certs returns kubeadm's certificate table in kubeadm's order: each CA before what it signs.
func Certs() []Cert {
	return []Cert{
		{Name: "ca", BaseName: CABaseName, Config: caConfig("kubernetes")},
		{Name: "apiserver", BaseName: "apiserver", CA: CABaseName, Config: apiServerConfig},
		{Name: "apiserver-kubelet-client", BaseName: "apiserver-kubelet-client", CA: CABaseName,
			Config: clientConfig("kube-apiserver-kubelet-client")},
		{Name: "front-proxy-ca", BaseName: FrontProxyCABaseName, Config: caConfig("front-proxy-ca")},
		{Name: "front-proxy-client", BaseName: "front-proxy-client", CA: FrontProxyCABaseName,
			Config: clientConfig("front-proxy-client")},
		{Name: "etcd-ca", BaseName: EtcdCABaseName, Config: caConfig("etcd-ca")},
		{Name: "etcd-server", BaseName: "etcd/server", CA: EtcdCABaseName,
			Config: etcdMemberConfig(func(in *Inputs) []string { return in.Cluster.Etcd.Local.ServerCertSANs })},
		{Name: "etcd-peer", BaseName: "etcd/peer", CA: EtcdCABaseName,
			Config: etcdMemberConfig(func(in *Inputs) []string { return in.Cluster.Etcd.Local.PeerCertSANs })},
		{Name: "etcd-healthcheck-client", BaseName: "etcd/healthcheck-client", CA: EtcdCABaseName,
			Config: clientConfig("kube-etcd-healthcheck-client")},
		{Name: "apiserver-etcd-client", BaseName: "apiserver-etcd-client", CA: EtcdCABaseName,
			Config: clientConfig("kube-apiserver-etcd-client")},
	}
}

// CAs returns the CA rows of the table: what a cluster directory holds.
func CAs() []Cert {
	var cas []Cert
	for _, c := range Certs() {
		if c.IsCA() {
			cas = append(cas, c)
		}
	}
	return cas
}

func caConfig(cn string) func(*Inputs) (CertConfig, error) {
	return func(in *Inputs) (CertConfig, error) {
		return CertConfig{CommonName: cn, Validity: in.Cluster.CACertificateValidityPeriod.Duration}, nil
	}
}

func clientConfig(cn string) func(*Inputs) (CertConfig, error) {
	return func(in *Inputs) (CertConfig, error) {
		return CertConfig{CommonName: cn, Usages: clientAuth, Validity: leafValidity(in)}, nil
	}
}

func leafValidity(in *Inputs) time.Duration { return in.Cluster.CertificateValidityPeriod.Duration }

// apiServerConfig gives the API server every name a client may reach it by: the node, the
// in-cluster Service names, the Service IP, the advertise address, the control-plane endpoint
// and the operator's certSANs.
func apiServerConfig(in *Inputs) (CertConfig, error) {
	if err := in.needNode(); err != nil {
		return CertConfig{}, err
	}
	svcIP, err := in.Cluster.ServiceIP(1)
	if err != nil {
		return CertConfig{}, err
	}
	cfg := CertConfig{
		CommonName: "kube-apiserver",
		Usages:     serverAuth,
		Validity:   leafValidity(in),
		DNSNames: []string{in.NodeName, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc." + in.Cluster.Networking.DNSDomain},
		IPs: []net.IP{svcIP, in.AdvertiseAddress},
	}
	if cpe := in.Cluster.ControlPlaneEndpoint; cpe != "" {
		host, _, err := config.SplitEndpoint(cpe, config.DefaultAPIBindPort)
		if err != nil {
			return CertConfig{}, fmt.Errorf("controlPlaneEndpoint: %w", err)
		}
		cfg.addSANs(host)
	}
	cfg.addSANs(in.Cluster.APIServer.CertSANs...)
	return cfg, nil
}

// etcdMemberConfig is the server and peer certificate of this node's etcd member.
func etcdMemberConfig(extra func(*Inputs) []string) func(*Inputs) (CertConfig, error) {
	return func(in *Inputs) (CertConfig, error) {
		if err := in.needNode(); err != nil {
			return CertConfig{}, err
		}
		cfg := CertConfig{
			CommonName: in.NodeName,
			Usages:     serverAndClient,
			Validity:   leafValidity(in),
			DNSNames:   []string{in.NodeName, "localhost"},
			IPs:        []net.IP{in.AdvertiseAddress, net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback},
		}
		cfg.addSANs(extra(in)...)
		return cfg, nil
	}
}

func (in *Inputs) needNode() error {
	if in.NodeName == "" || in.AdvertiseAddress == nil {
		return fmt.Errorf("node certificates need the node's name and advertise address")
	}
	return nil
}

// addSANs adds each name as an IP or DNS SAN, skipping duplicates.
func (c *CertConfig) addSANs(names ...string) {
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			if !containsIP(c.IPs, ip) {
				c.IPs = append(c.IPs, ip)
			}
		} else if !containsString(c.DNSNames, n) {
			c.DNSNames = append(c.DNSNames, n)
		}
	}
}

func containsIP(ips []net.IP, ip net.IP) bool {
	for _, x := range ips {
		if x.Equal(ip) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
