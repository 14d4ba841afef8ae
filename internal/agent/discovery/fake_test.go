package discovery_test

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	clientcmd "k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/kilnproject/kiln/internal/cluster/pin"
	"github.com/kilnproject/kiln/internal/cluster/pki"
)

const (
	tokenID     = "abcdef"
	tokenSecret = "0123456789abcdef"
	token       = tokenID + "." + tokenSecret
	// wrongToken has the same ID and another secret.
	wrongToken = tokenID + ".fedcba9876543210"
	// clusterServer is the server cluster-info names; discovery itself goes through the fake's
	// own address, as a node may discover through one address and then use the cluster's.
	clusterServer = "https://cp.example.test:6443"
)

// testCA is a cluster CA made with internal/pki.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
	pin  string
}

func newCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := pki.NewPrivateKey("ECDSA-P256")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NewSelfSignedCA(pki.CertConfig{CommonName: cn, Validity: 24 * time.Hour}, key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pki.EncodeCert(cert), pin: pin.Hash(cert)}
}

// servingCert returns a serving certificate for localhost, 127.0.0.1 and ::1 signed by ca.
func (ca *testCA) servingCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := pki.NewPrivateKey("ECDSA-P256")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NewSignedCert(pki.CertConfig{
		CommonName: "kube-apiserver",
		DNSNames:   []string{"localhost"},
		IPs:        []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		Validity:   24 * time.Hour,
	}, key.Public(), ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
}

// clusterInfoKubeconfig is the kubeconfig kubeadm puts into cluster-info: one cluster keyed by
// the empty string, no users.
func clusterInfoKubeconfig(t *testing.T, server string, caPEM []byte) string {
	t.Helper()
	data, err := clientcmd.Write(clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{"": {Server: server, CertificateAuthorityData: caPEM}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sign(t *testing.T, content, tok string) string {
	t.Helper()
	id, secret := tok[:6], tok[7:]
	sig, err := jws.ComputeDetachedSignature(content, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// fakeAPI serves kube-public/cluster-info as an API server whose bootstrap signer is slow, and
// records every credential a client presents.
type fakeAPI struct {
	endpoint string

	mu          sync.Mutex
	kubeconfig  string // data.kubeconfig
	signature   string // data.jws-kubeconfig-<tokenID>, once unsigned reads are used up
	unsigned    int    // reads answered before the signature appears
	notFound    int    // reads answered 404 before cluster-info exists
	changed     string // if set, data.kubeconfig of every read after the first signed one
	reads       int
	signed      int
	credentials []string // what the fake was shown that it should never see
}

// newFakeAPI starts a fake API server on loopback (addr "127.0.0.1:0" or "[::1]:0") whose
// serving certificate is signed by serving, with cluster-info carrying clusterCA signed for
// token.
func newFakeAPI(t *testing.T, addr string, serving, clusterCA *testCA) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.kubeconfig = clusterInfoKubeconfig(t, clusterServer, clusterCA.pem)
	f.signature = sign(t, f.kubeconfig, token)
	srv := httptest.NewUnstartedServer(f)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv.Listener.Close()
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving.servingCert(t)}, ClientAuth: tls.RequestClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by Close
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.endpoint = l.Addr().String()
	return f
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		f.credentials = append(f.credentials, "Authorization header")
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		f.credentials = append(f.credentials, "client certificate")
	}
	if r.URL.Path != "/api/v1/namespaces/kube-public/configmaps/cluster-info" {
		http.NotFound(w, r)
		return
	}
	if f.notFound > 0 {
		f.notFound--
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
		return
	}
	f.reads++
	data := map[string]string{"kubeconfig": f.kubeconfig}
	if f.reads > f.unsigned && f.signature != "" {
		f.signed++
		data["jws-kubeconfig-"+tokenID] = f.signature
		if f.signed > 1 && f.changed != "" {
			data["kubeconfig"] = f.changed
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "ConfigMap", "apiVersion": "v1",
		"metadata": map[string]string{"name": "cluster-info", "namespace": "kube-public"},
		"data":     data,
	})
}

func (f *fakeAPI) stats() (reads int, credentials []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads, append([]string(nil), f.credentials...)
}
