package discovery

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	certutil "k8s.io/client-go/util/cert"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// DefaultClusterName is the cluster name kubeadm writes into bootstrap-kubelet.conf.
const DefaultClusterName = "kubernetes"

// ErrInvalidInput marks options that are wrong before any network step.
var ErrInvalidInput = errors.New("invalid discovery input")

// parseToken splits a bootstrap token "id.secret". Its error never contains the secret, nor
// anything that might be one.
func parseToken(s string) (id, secret string, err error) {
	if !bootstraputil.IsValidBootstrapToken(s) {
		return "", "", fmt.Errorf("%w: the bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16}", ErrInvalidInput)
	}
	id, secret, _ = strings.Cut(s, ".")
	return id, secret, nil
}

// parseEndpoint checks an API server endpoint "host:port" (IPv6 in brackets) and returns its
// host.
func parseEndpoint(ep string) (host string, err error) {
	if strings.Contains(ep, "://") {
		return "", fmt.Errorf("%w: API server endpoint %q: want host:port, without a scheme", ErrInvalidInput, ep)
	}
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return "", fmt.Errorf("%w: API server endpoint %q: want host:port (IPv6 in brackets): %v", ErrInvalidInput, ep, err)
	}
	if host == "" {
		return "", fmt.Errorf("%w: API server endpoint %q has no host", ErrInvalidInput, ep)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: API server endpoint %q: port %q is not a number in 1-65535", ErrInvalidInput, ep, port)
	}
	return host, nil
}

// checkServerURL checks that server is an https URL with a host, as a kubeconfig server must be.
func checkServerURL(server string) error {
	u, err := url.Parse(server)
	if err != nil {
		return fmt.Errorf("API server URL %q: %w", server, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("API server URL %q: want https://host[:port]", server)
	}
	return nil
}

// parseCA parses a PEM CA bundle; it must hold at least one certificate.
func parseCA(caPEM []byte) ([]*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificates: %w", err)
	}
	return certs, nil
}
