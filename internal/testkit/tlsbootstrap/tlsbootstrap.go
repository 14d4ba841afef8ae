package tlsbootstrap

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/certificate/csr"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
)

// DefaultTimeout bounds RequestNodeClientCert when its context has no deadline, as kubeadm's
// timeouts.tlsBootstrap.
const DefaultTimeout = 5 * time.Minute

// DefaultClusterName is the cluster name of NodeKubeconfig when none is given.
const DefaultClusterName = "kubernetes"

// Errors callers branch on.
var (
	// ErrInvalidInput marks arguments that are wrong before anything is sent.
	ErrInvalidInput = errors.New("invalid TLS bootstrap input")
	// ErrTokenRejected means the API server answered 401: the token is unknown or expired.
	ErrTokenRejected = errors.New("the API server rejected bootstrap token")
	// ErrForbidden means the token authenticates but may not do a step of the bootstrap.
	ErrForbidden = errors.New("the bootstrap token is not allowed to request a node client certificate")
	// ErrDenied means someone denied the certificate signing request.
	ErrDenied = errors.New("the node client certificate signing request was denied")
	// ErrNotIssued means the request was not approved and signed in time, or signing failed.
	ErrNotIssued = errors.New("the node client certificate was not issued")
)

// RequestNodeClientCert creates a CSR (CN system:node:<nodeName>, O system:nodes, signer
// kubernetes.io/kube-apiserver-client-kubelet, usages digital signature + client auth (+ key
// encipherment for RSA)) for key with the bootstrap kubeconfig's credentials, waits until it is
// approved and signed, and returns the certificate PEM. Without a deadline on ctx it waits at
// most DefaultTimeout.
func RequestNodeClientCert(ctx context.Context, bootstrap *clientcmdapi.Config, nodeName string, key crypto.Signer) (certPEM []byte, err error) {
	if err := checkInput(bootstrap, nodeName, key); err != nil {
		return nil, err
	}
	restConfig, err := clientcmd.NewDefaultClientConfig(*bootstrap, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap kubeconfig: %w", ErrInvalidInput, err)
	}
	restConfig.UserAgent = "kiln-tlsbootstrap"
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("client for the bootstrap kubeconfig: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	return request(ctx, client, tokenID(bootstrap), nodeName, key)
}

// request does the bootstrap with client; tokenID names the credential in errors.
func request(ctx context.Context, client kubernetes.Interface, tokenID, nodeName string, key crypto.Signer) ([]byte, error) {
	req, err := newNodeCSR(nodeName, key)
	if err != nil {
		return nil, err
	}
	name, uid, err := csr.RequestCertificateWithContext(ctx, client, req.pem, req.name,
		certificatesv1.KubeAPIServerClientKubeletSignerName, nil, req.usages, key)
	if err != nil {
		return nil, explainAPIError(err, tokenID, fmt.Sprintf("create CertificateSigningRequest %s for node %s", req.name, nodeName))
	}
	certPEM, err := csr.WaitForCertificate(ctx, client, name, uid)
	if err != nil {
		return nil, explainWait(ctx, client, tokenID, name, err)
	}
	if err := checkIssued(certPEM, req, key); err != nil {
		return nil, fmt.Errorf("CertificateSigningRequest %s: %w", name, err)
	}
	return certPEM, nil
}

// NodeKubeconfig returns the node's kubelet.conf credentials: user system:node:<nodeName> with
// the embedded client certificate and key, trusting caPEM at server. An empty clusterName means
// DefaultClusterName.
func NodeKubeconfig(server, clusterName string, caPEM, certPEM, keyPEM []byte, nodeName string) *clientcmdapi.Config {
	if clusterName == "" {
		clusterName = DefaultClusterName
	}
	return kubeconfig.NewWithCert(server, clusterName, NodeUserPrefix+nodeName, caPEM, certPEM, keyPEM)
}

func checkInput(bootstrap *clientcmdapi.Config, nodeName string, key crypto.Signer) error {
	if bootstrap == nil {
		return fmt.Errorf("%w: no bootstrap kubeconfig", ErrInvalidInput)
	}
	if _, err := kubeconfig.CurrentCluster(bootstrap); err != nil {
		return fmt.Errorf("%w: bootstrap %w", ErrInvalidInput, err)
	}
	if errs := validation.IsDNS1123Subdomain(nodeName); len(errs) > 0 {
		return fmt.Errorf("%w: node name %q: %s", ErrInvalidInput, nodeName, strings.Join(errs, "; "))
	}
	if key == nil {
		return fmt.Errorf("%w: no private key for the node client certificate", ErrInvalidInput)
	}
	return nil
}

// tokenID returns the ID of the bootstrap token of bootstrap's current user, or "" when that
// user has no bootstrap token.
func tokenID(bootstrap *clientcmdapi.Config) string {
	ctx := bootstrap.Contexts[bootstrap.CurrentContext]
	if ctx == nil || bootstrap.AuthInfos[ctx.AuthInfo] == nil {
		return ""
	}
	tok := bootstrap.AuthInfos[ctx.AuthInfo].Token
	if !bootstraputil.IsValidBootstrapToken(tok) {
		return ""
	}
	id, _, _ := strings.Cut(tok, ".")
	return id
}
