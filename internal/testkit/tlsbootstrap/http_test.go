package tlsbootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes/scheme"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pki"
)

// refusingAPI is an API server that records the CSRs posted to it and answers every request
// with one status code.
type refusingAPI struct {
	code int

	mu    sync.Mutex
	auth  []string
	posts []*certificatesv1.CertificateSigningRequest
	errs  []string
}

func (a *refusingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.auth = append(a.auth, r.Header.Get("Authorization"))
	if r.Method == http.MethodPost && r.URL.Path == "/apis/certificates.k8s.io/v1/certificatesigningrequests" {
		body, _ := io.ReadAll(r.Body)
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		if req, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
			a.posts = append(a.posts, req)
		} else {
			a.errs = append(a.errs, fmt.Sprintf("decode %s CSR: %v", r.Header.Get("Content-Type"), err))
		}
	}
	reason := map[int]string{401: "Unauthorized", 403: "Forbidden"}[a.code]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":%q,"reason":%q,"code":%d}`,
		strings.ToLower(reason), reason, a.code)
}

// bootstrapKubeconfig returns bootstrap-kubelet.conf for a test server.
func bootstrapKubeconfig(srv *httptest.Server, tok string) *clientcmdapi.Config {
	return kubeconfig.NewBootstrapKubelet(srv.URL, "kubernetes", pki.EncodeCert(srv.Certificate()), tok)
}

func TestRequestNodeClientCertRefused(t *testing.T) {
	tests := []struct {
		code    int
		want    error
		wantMsg string
	}{
		{http.StatusUnauthorized, ErrTokenRejected, "the API server rejected bootstrap token abcdef: it is unknown or expired"},
		{http.StatusForbidden, ErrForbidden, "kubeadm:kubelet-bootstrap"},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			api := &refusingAPI{code: tc.code}
			srv := httptest.NewTLSServer(api)
			defer srv.Close()
			key := newKey(t, "RSA-2048")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			_, err := RequestNodeClientCert(ctx, bootstrapKubeconfig(srv, token), "worker-1", key)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.wantMsg)
			}
			t.Logf("err: %v", err)
			if strings.Contains(err.Error(), tokenSecret) {
				t.Errorf("err contains the token secret: %v", err)
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			for _, a := range api.auth {
				if a != "Bearer "+token {
					t.Errorf("Authorization = %q, want the bootstrap token", a)
				}
			}
			if len(api.posts) != 1 {
				t.Fatalf("%d CSRs posted, want 1 (%v)", len(api.posts), api.errs)
			}
			checkCSR(t, api.posts[0], "worker-1", key, []certificatesv1.KeyUsage{
				certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth, certificatesv1.UsageKeyEncipherment})
		})
	}
}

func TestRequestNodeClientCertInvalidInput(t *testing.T) {
	srv := httptest.NewTLSServer(&refusingAPI{code: http.StatusTeapot})
	defer srv.Close()
	key := newKey(t, "ECDSA-P256")
	noContext := bootstrapKubeconfig(srv, token)
	noContext.CurrentContext = "elsewhere"
	tests := []struct {
		name      string
		bootstrap *clientcmdapi.Config
		node      string
		key       bool
		want      string
	}{
		{"no kubeconfig", nil, "worker-1", true, "no bootstrap kubeconfig"},
		{"no current context", noContext, "worker-1", true, `no current context "elsewhere"`},
		{"empty node name", bootstrapKubeconfig(srv, token), "", true, `node name ""`},
		{"node name with capitals", bootstrapKubeconfig(srv, token), "Worker_1", true, `node name "Worker_1"`},
		{"no key", bootstrapKubeconfig(srv, token), "worker-1", false, "no private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := key
			if !tc.key {
				k = nil
			}
			_, err := RequestNodeClientCert(context.Background(), tc.bootstrap, tc.node, k)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidInput mentioning %q", err, tc.want)
			}
		})
	}
}
