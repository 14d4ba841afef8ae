package config

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Pinned versions and kubeadm's defaults, applied by SetDefaults.
const (
	DefaultKubernetesVersion = "v1.36.3"
	DefaultEtcdVersion       = "3.6.16-0"
	DefaultCoreDNSVersion    = "v1.14.7"
	DefaultPauseVersion      = "3.10.2"
	DefaultImageRepository   = "registry.k8s.io"
	DefaultClusterName       = "kubernetes"
	DefaultServiceSubnet     = "10.96.0.0/12"
	DefaultPodSubnet         = "10.244.0.0/16"
	DefaultDNSDomain         = "cluster.local"
	DefaultAPIBindPort       = kubeadm.APIServerPort
	DefaultEncryption        = EncryptionRSA2048
	DefaultTokenTTL          = 24 * time.Hour
	DefaultCertValidity      = 365 * 24 * time.Hour
	DefaultCACertValidity    = 10 * 365 * 24 * time.Hour
	// DefaultNodeTokenGroup is the extra group kubeadm gives its default bootstrap token; the
	// bootstrap RBAC binds it.
	DefaultNodeTokenGroup = "system:bootstrappers:kubeadm:default-node-token"
)

// Key algorithms, named as kubeadm's encryptionAlgorithm field names them.
const (
	EncryptionRSA2048   = "RSA-2048"
	EncryptionRSA3072   = "RSA-3072"
	EncryptionRSA4096   = "RSA-4096"
	EncryptionECDSAP256 = "ECDSA-P256"
	EncryptionECDSAP384 = "ECDSA-P384"
)

// DefaultTokenUsages are kubeadm's usages for a bootstrap token.
var DefaultTokenUsages = []string{"signing", "authentication"}

// SetDefaults fills every empty field of c with kubeadm's default.
func (c *ClusterConfiguration) SetDefaults() {
	c.APIVersion, c.Kind = APIVersion, KindClusterConfiguration
	setString(&c.ClusterName, DefaultClusterName)
	setString(&c.KubernetesVersion, DefaultKubernetesVersion)
	setString(&c.ImageRepository, DefaultImageRepository)
	setString(&c.CertificatesDir, layout.PKIDir)
	setString(&c.EncryptionAlgorithm, DefaultEncryption)
	setString(&c.Networking.ServiceSubnet, DefaultServiceSubnet)
	setString(&c.Networking.PodSubnet, DefaultPodSubnet)
	setString(&c.Networking.DNSDomain, DefaultDNSDomain)
	if c.Etcd.Local == nil {
		c.Etcd.Local = &LocalEtcd{}
	}
	setString(&c.Etcd.Local.DataDir, layout.EtcdDataDir)
	setDuration(&c.CertificateValidityPeriod, DefaultCertValidity)
	setDuration(&c.CACertificateValidityPeriod, DefaultCACertValidity)
}

// SetDefaults fills every empty field of c with kubeadm's default.
func (c *InitConfiguration) SetDefaults() {
	c.APIVersion, c.Kind = APIVersion, KindInitConfiguration
	if c.LocalAPIEndpoint.BindPort == 0 {
		c.LocalAPIEndpoint.BindPort = DefaultAPIBindPort
	}
	for i := range c.BootstrapTokens {
		c.BootstrapTokens[i].SetDefaults()
	}
}

// SetDefaults gives t kubeadm's TTL, usages and groups where they are empty.
func (t *BootstrapToken) SetDefaults() {
	if t.TTL == nil && t.Expires == nil {
		setDuration(&t.TTL, DefaultTokenTTL)
	}
	if len(t.Usages) == 0 {
		t.Usages = append([]string(nil), DefaultTokenUsages...)
	}
	if len(t.Groups) == 0 {
		t.Groups = []string{DefaultNodeTokenGroup}
	}
}

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setDuration(p **metav1.Duration, d time.Duration) {
	if *p == nil {
		*p = &metav1.Duration{Duration: d}
	}
}
