package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	clientcmd "k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pin"
	"github.com/kilnproject/kiln/internal/common/poll"
)

// Defaults of TokenOptions, as kubeadm's (timeouts.discovery and DiscoveryRetryInterval).
const (
	DefaultTimeout  = 5 * time.Minute
	DefaultInterval = 5 * time.Second
)

// Errors callers branch on.
var (
	// ErrNoClusterInfo means cluster-info could not be read: the API server is unreachable, or
	// it does not (yet) serve cluster-info to anonymous clients.
	ErrNoClusterInfo = errors.New("cannot read cluster-info")
	// ErrNoSignature means cluster-info never carried a signature for the token.
	ErrNoSignature = errors.New("cluster-info carries no JWS signature for the bootstrap token")
	// ErrJWSInvalid means the signature does not match: the token secret is wrong or the
	// content was altered.
	ErrJWSInvalid = errors.New("failed to verify JWS signature of cluster-info: can't trust this API server")
	// ErrUntrustedServer means the API server's TLS certificate is not signed by the pinned CA.
	ErrUntrustedServer = errors.New("the API server's certificate is not signed by the pinned cluster CA")
	// ErrContentChanged means the verified read of cluster-info differs from the first one.
	ErrContentChanged = errors.New("cluster-info read over verified TLS differs from the first read")
)

// TokenOptions are the inputs of token discovery.
type TokenOptions struct {
	// Endpoint is the API server's host:port (IPv6 in brackets) to discover through.
	Endpoint string
	// Token is the bootstrap token "id.secret". Its secret is a credential.
	Token string
	// CAPins are "sha256:<hex>" pins of the cluster CA; at least one is required.
	CAPins []string
	// Timeout bounds the wait for the signature, and again the verified read; default
	// DefaultTimeout.
	Timeout time.Duration
	// Interval is the time between reads of cluster-info; default DefaultInterval.
	Interval time.Duration
	// ClusterName names the cluster in the returned kubeconfig; default DefaultClusterName.
	ClusterName string
	// Logger receives progress lines; default slog.Default().
	Logger *slog.Logger
}

// ByToken is kubeadm's token discovery (see the package documentation). It returns the
// content of bootstrap-kubelet.conf: the API server named in cluster-info, the pinned CA bundle
// and the token, for user kubeconfig.BootstrapUser.
func ByToken(ctx context.Context, o TokenOptions) (*clientcmdapi.Config, error) {
	id, secret, host, err := o.complete()
	if err != nil {
		return nil, err
	}
	log := o.Logger.With("endpoint", o.Endpoint, "tokenID", id)

	log.Info("[discovery] reading cluster-info without TLS verification until it is signed for the token")
	insecure := newFetcher(o.Endpoint, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // trust comes from the JWS and the pin
	defer insecure.close()
	data, err := waitForSignature(ctx, insecure, id, &o, log)
	if err != nil {
		return nil, err
	}
	unverified := data[bootstrapapi.KubeConfigKey]
	if unverified == "" {
		return nil, fmt.Errorf("cluster-info has no %q key: this API server is not set up for token discovery", bootstrapapi.KubeConfigKey)
	}
	if !jws.DetachedTokenIsValid(data[bootstrapapi.JWSSignatureKeyPrefix+id], unverified, id, secret) {
		return nil, fmt.Errorf("%w (token ID %q): the token secret is wrong, or cluster-info was altered", ErrJWSInvalid, id)
	}
	server, caPEM, err := parseClusterInfo(unverified)
	if err != nil {
		return nil, err
	}
	cas, err := parseCA(caPEM)
	if err != nil {
		return nil, fmt.Errorf("cluster CA in cluster-info: %w", err)
	}
	if err := pin.CheckAny(cas, o.CAPins); err != nil {
		return nil, fmt.Errorf("cluster CA in cluster-info: %w", err)
	}

	log.Info("[discovery] cluster-info is signed and its CA matches a pin; reading it again over verified TLS")
	roots := x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}
	verified := newFetcher(o.Endpoint, &tls.Config{RootCAs: roots, ServerName: host})
	defer verified.close()
	again, err := readVerified(ctx, verified, &o, log)
	if err != nil {
		return nil, err
	}
	if again != unverified {
		return nil, fmt.Errorf("%w (endpoint %s): it changed in between, or the first answer came from someone else", ErrContentChanged, o.Endpoint)
	}
	log.Info("[discovery] trusting the cluster", "server", server)
	return kubeconfig.NewBootstrapKubelet(server, o.ClusterName, caPEM, o.Token), nil
}

// complete checks o, fills in its defaults, and returns the token's halves and the endpoint's
// host.
func (o *TokenOptions) complete() (id, secret, host string, err error) {
	if host, err = parseEndpoint(o.Endpoint); err != nil {
		return "", "", "", err
	}
	if id, secret, err = parseToken(o.Token); err != nil {
		return "", "", "", err
	}
	if len(o.CAPins) == 0 {
		return "", "", "", fmt.Errorf("%w: token discovery needs at least one CA pin (sha256:<hex>)", ErrInvalidInput)
	}
	for _, p := range o.CAPins {
		if err := pin.Validate(p); err != nil {
			return "", "", "", fmt.Errorf("%w: %v", ErrInvalidInput, err)
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	o.Interval = min(o.Interval, o.Timeout)
	if o.ClusterName == "" {
		o.ClusterName = DefaultClusterName
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return id, secret, host, nil
}

// waitForSignature reads cluster-info until it carries a signature for token id.
func waitForSignature(ctx context.Context, f *fetcher, id string, o *TokenOptions, log *slog.Logger) (map[string]string, error) {
	var data map[string]string
	retry := retryLog{log: log, msg: "[discovery] cluster-info not ready, retrying"}
	err := poll.Until(ctx, poll.Every(o.Interval).Within(o.Timeout), func(ctx context.Context) error {
		d, err := f.get(ctx)
		switch {
		case err != nil:
		case d[bootstrapapi.JWSSignatureKeyPrefix+id] == "":
			err = ErrNoSignature
		default:
			data = d
			return nil
		}
		if ctx.Err() == nil { // a read cut short by the deadline says nothing new
			retry.note(ctx, err)
		}
		return err
	})
	last := lastAnswer(err)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("discovery through %s: %w", o.Endpoint, err)
	case last == nil:
		return nil, fmt.Errorf("%w from %s within %s: %w", ErrNoClusterInfo, o.Endpoint, o.Timeout, err)
	case errors.Is(last, ErrNoSignature):
		return nil, fmt.Errorf("%w (token ID %q) after %s: the token is unknown to the cluster, has expired, or lacks usage-bootstrap-signing",
			ErrNoSignature, id, o.Timeout)
	default:
		return nil, fmt.Errorf("%w from %s within %s: %w", ErrNoClusterInfo, o.Endpoint, o.Timeout, last)
	}
}

// lastAnswer is the last try's error kept in a poll timeout, or nil.
func lastAnswer(err error) error {
	if te, ok := errors.AsType[*poll.TimeoutError](err); ok {
		return te.Last
	}
	return nil
}

// readVerified reads cluster-info over TLS verified with the pinned CA and returns its
// kubeconfig.
func readVerified(ctx context.Context, f *fetcher, o *TokenOptions, log *slog.Logger) (string, error) {
	var kc string
	retry := retryLog{log: log, msg: "[discovery] verified read of cluster-info failed, retrying"}
	err := poll.Until(ctx, poll.Every(o.Interval).Within(o.Timeout), func(ctx context.Context) error {
		d, err := f.get(ctx)
		if verr, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
			return poll.Stop(fmt.Errorf("%w (endpoint %s): %w", ErrUntrustedServer, o.Endpoint, verr))
		}
		if err != nil {
			if ctx.Err() == nil { // a read cut short by the deadline says nothing new
				retry.note(ctx, err)
			}
			return err
		}
		kc = d[bootstrapapi.KubeConfigKey]
		return nil
	})
	last := lastAnswer(err)
	switch {
	case err == nil:
		return kc, nil
	case errors.Is(err, ErrUntrustedServer):
		return "", err
	case errors.Is(err, context.Canceled) || last == nil:
		return "", fmt.Errorf("verified read of cluster-info from %s: %w", o.Endpoint, err)
	default:
		return "", fmt.Errorf("%w over verified TLS from %s within %s: %w", ErrNoClusterInfo, o.Endpoint, o.Timeout, last)
	}
}

// parseClusterInfo returns the server and CA bundle of the kubeconfig in cluster-info, which
// must name exactly one cluster.
func parseClusterInfo(kc string) (server string, caPEM []byte, err error) {
	cfg, err := clientcmd.Load([]byte(kc))
	if err != nil {
		return "", nil, fmt.Errorf("parse the kubeconfig in cluster-info: %w", err)
	}
	if len(cfg.Clusters) != 1 {
		return "", nil, fmt.Errorf("the kubeconfig in cluster-info has %d clusters, want exactly one", len(cfg.Clusters))
	}
	for _, c := range cfg.Clusters {
		server, caPEM = c.Server, c.CertificateAuthorityData
	}
	if err := checkServerURL(server); err != nil {
		return "", nil, fmt.Errorf("the kubeconfig in cluster-info: %w", err)
	}
	if len(caPEM) == 0 {
		return "", nil, fmt.Errorf("the kubeconfig in cluster-info has no certificate-authority-data")
	}
	return server, caPEM, nil
}
