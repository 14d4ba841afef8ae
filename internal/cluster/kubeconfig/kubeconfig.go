package kubeconfig

import (
	"crypto/x509"
	"fmt"

	clientcmd "k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// Mode is the mode of every kubeconfig file: they hold credentials.
const Mode = 0o600

// BootstrapUser is the user name kubeadm gives the token in bootstrap-kubelet.conf.
const BootstrapUser = "tls-bootstrap-token-user"

// NewWithCert returns a kubeconfig for user at server, trusting caPEM, authenticating with an
// embedded client certificate and key. The context is "<user>@<cluster>", as kubeadm names it.
func NewWithCert(server, clusterName, user string, caPEM, certPEM, keyPEM []byte) *clientcmdapi.Config {
	cfg := newBasic(server, clusterName, user, caPEM)
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	return cfg
}

// NewWithToken returns a kubeconfig for user at server, trusting caPEM, authenticating with a
// bearer token.
func NewWithToken(server, clusterName, user string, caPEM []byte, token string) *clientcmdapi.Config {
	cfg := newBasic(server, clusterName, user, caPEM)
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	return cfg
}

// NewBootstrapKubelet returns bootstrap-kubelet.conf: the kubelet's credentials until its TLS
// bootstrap gives it a certificate of its own.
func NewBootstrapKubelet(server, clusterName string, caPEM []byte, token string) *clientcmdapi.Config {
	return NewWithToken(server, clusterName, BootstrapUser, caPEM, token)
}

func newBasic(server, clusterName, user string, caPEM []byte) *clientcmdapi.Config {
	ctx := fmt.Sprintf("%s@%s", user, clusterName)
	return &clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{clusterName: {Server: server, CertificateAuthorityData: caPEM}},
		Contexts:       map[string]*clientcmdapi.Context{ctx: {Cluster: clusterName, AuthInfo: user}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{},
		CurrentContext: ctx,
	}
}

// Write writes cfg to path atomically with mode 0600.
func Write(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, data, Mode)
}

// Load reads a kubeconfig file.
func Load(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// CurrentCluster returns the cluster of cfg's current context.
func CurrentCluster(cfg *clientcmdapi.Config) (*clientcmdapi.Cluster, error) {
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no current context %q", cfg.CurrentContext)
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("kubeconfig context %q names a missing cluster %q", cfg.CurrentContext, ctx.Cluster)
	}
	return cluster, nil
}

// ClientCert returns the client certificate embedded in cfg's current user.
func ClientCert(cfg *clientcmdapi.Config) (*x509.Certificate, error) {
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no current context %q", cfg.CurrentContext)
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok || len(user.ClientCertificateData) == 0 {
		return nil, fmt.Errorf("kubeconfig user %q has no embedded client certificate", ctx.AuthInfo)
	}
	return parseFirstCert(user.ClientCertificateData)
}

// signClient issues a client certificate for cn/orgs, signed by the CA in caDir.
func signClient(caDir, cn string, orgs []string, in *pki.Inputs) (certPEM, keyPEM []byte, caPEM []byte, err error) {
	ca, caKey, err := pki.LoadCertAndKey(caDir, pki.CABaseName)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kubeconfig for %s needs the cluster CA: %w", cn, err)
	}
	key, err := in.NewKey()
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := pki.NewSignedCert(pki.CertConfig{
		CommonName:   cn,
		Organization: orgs,
		Usages:       []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		Validity:     in.Cluster.CertificateValidityPeriod.Duration,
	}, key.Public(), ca, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	if keyPEM, err = pki.EncodeKey(key); err != nil {
		return nil, nil, nil, err
	}
	return pki.EncodeCert(cert), keyPEM, pki.EncodeCert(ca), nil
}
