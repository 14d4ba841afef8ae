package integration

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
)

// startTamperingProxy is a man in the middle in front of the API server: it serves its own
// certificate (discovery's first fetch cannot tell) and rewrites the server address inside
// cluster-info's kubeconfig, keeping the genuine JWS signatures. It returns its host:port.
func startTamperingProxy(t *testing.T, apiEndpoint string) string {
	target := &url.URL{Scheme: "https", Host: apiEndpoint}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		body = bytes.ReplaceAll(body, []byte("server: https://"), []byte("server: https://evil."))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewTLSServer(proxy)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// recordedRequest is what a recording proxy saw of one request.
type recordedRequest struct {
	Method, Path string
	Credential   bool // an Authorization header or a client certificate
}

// startRecordingProxy passes requests through to the API server unchanged and records each
// one, so a test can tell what a client sent. It returns its host:port and the recording.
func startRecordingProxy(t *testing.T, apiEndpoint string) (string, func() []recordedRequest) {
	var mu sync.Mutex
	var seen []recordedRequest
	target := &url.URL{Scheme: "https", Host: apiEndpoint}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, recordedRequest{
			Method:     r.Method,
			Path:       r.URL.Path,
			Credential: r.Header.Get("Authorization") != "" || (r.TLS != nil && len(r.TLS.PeerCertificates) > 0),
		})
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), func() []recordedRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]recordedRequest(nil), seen...)
	}
}
