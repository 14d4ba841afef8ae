package discovery

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
)

const (
	// clusterInfoPath is where the API server serves kube-public/cluster-info.
	clusterInfoPath = "/api/v1/namespaces/kube-public/configmaps/" + bootstrapapi.ConfigMapClusterInfo
	// requestTimeout bounds one request, so a stuck connection does not stall the polling.
	requestTimeout = 10 * time.Second
	// maxBody is the largest ConfigMap the API server stores (1 MiB) plus room for the envelope.
	maxBody = 2 << 20
)

// statusError is an HTTP answer other than 200 OK.
type statusError struct{ code int }

func (e *statusError) Error() string {
	msg := fmt.Sprintf("the API server answered %d %s", e.code, http.StatusText(e.code))
	switch e.code {
	case http.StatusNotFound:
		msg += " (cluster-info does not exist yet: is the control plane initialised?)"
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (anonymous clients may not read cluster-info: is anonymous auth on and Role kubeadm:bootstrap-signer-clusterinfo bound to system:anonymous?)"
	}
	return msg
}

// fetcher reads cluster-info from one API server. It never sends a credential: the requests
// carry no Authorization header, and its TLS configuration holds no client certificate.
type fetcher struct {
	client *http.Client
	url    string
}

func newFetcher(endpoint string, tlsConfig *tls.Config) *fetcher {
	tlsConfig.MinVersion = tls.VersionTLS12
	return &fetcher{
		client: &http.Client{
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				TLSClientConfig:     tlsConfig,
				TLSHandshakeTimeout: requestTimeout,
				ForceAttemptHTTP2:   true,
			},
			Timeout: requestTimeout,
		},
		url: "https://" + endpoint + clusterInfoPath,
	}
}

// get returns the data of the cluster-info ConfigMap.
func (f *fetcher) get(ctx context.Context) (map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kiln-discovery")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read cluster-info: %w", err)
	}
	var cm struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(body, &cm); err != nil {
		return nil, fmt.Errorf("decode cluster-info: %w", err)
	}
	if cm.Kind != "ConfigMap" {
		return nil, fmt.Errorf("decode cluster-info: got kind %q, want ConfigMap", cm.Kind)
	}
	return cm.Data, nil
}

func (f *fetcher) close() { f.client.CloseIdleConnections() }

// retryLog logs why a read is retried: at Info when the reason changes, at Debug otherwise, so
// a long wait does not flood the journal.
type retryLog struct {
	log  *slog.Logger
	msg  string
	prev string
}

func (r *retryLog) note(ctx context.Context, reason error) {
	level := slog.LevelDebug
	if reason.Error() != r.prev {
		level, r.prev = slog.LevelInfo, reason.Error()
	}
	r.log.Log(ctx, level, r.msg, "reason", reason.Error())
}
