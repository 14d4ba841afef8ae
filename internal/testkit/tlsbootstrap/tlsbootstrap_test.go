package tlsbootstrap

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/testkit/pkitest"
)

const (
	testTokenID = "abcdef"
	tokenSecret = "0123456789abcdef"
	token       = testTokenID + "." + tokenSecret
)

func TestMain(m *testing.M) {
	pkitest.Install()
	os.Exit(m.Run())
}

func newKey(t *testing.T, alg pki.KeyAlgorithm) crypto.Signer {
	t.Helper()
	key, err := pki.NewPrivateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// checkCSR checks a created CSR against what the kubelet sends and the approver accepts.
func checkCSR(t *testing.T, req *certificatesv1.CertificateSigningRequest, node string, key crypto.Signer, wantUsages []certificatesv1.KeyUsage) {
	t.Helper()
	if req.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName {
		t.Errorf("signer = %q", req.Spec.SignerName)
	}
	if !slices.Equal(req.Spec.Usages, wantUsages) {
		t.Errorf("usages = %v, want %v", req.Spec.Usages, wantUsages)
	}
	if !strings.HasPrefix(req.Name, "node-csr-") {
		t.Errorf("name = %q, want node-csr-<digest>", req.Name)
	}
	block, _ := pem.Decode(req.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("request is not a PEM CERTIFICATE REQUEST: %q", req.Spec.Request)
	}
	x, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.CheckSignature(); err != nil {
		t.Errorf("CSR signature: %v", err)
	}
	if x.Subject.CommonName != "system:node:"+node || !slices.Equal(x.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("subject = %v, want CN=system:node:%s, O=system:nodes", x.Subject, node)
	}
	if len(x.DNSNames)+len(x.IPAddresses)+len(x.EmailAddresses)+len(x.URIs) > 0 {
		t.Errorf("CSR has SANs; a client certificate request must not")
	}
	if !x.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Errorf("CSR is for another key")
	}
}

func TestRequestIssued(t *testing.T) {
	tests := []struct {
		alg    pki.KeyAlgorithm
		usages []certificatesv1.KeyUsage
	}{
		{"ECDSA-P256", []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}},
		{"RSA-2048", []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth, certificatesv1.UsageKeyEncipherment}},
	}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			kcm := newFakeKCM(t, approveAndSign)
			key := newKey(t, tc.alg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			certPEM, err := request(ctx, kcm.client, testTokenID, "worker-1", key)
			if err != nil {
				t.Fatal(err)
			}
			certs, err := certutil.ParseCertsPEM(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if certs[0].Subject.CommonName != "system:node:worker-1" || certs[0].CheckSignatureFrom(kcm.ca) != nil {
				t.Errorf("issued %v, want system:node:worker-1 signed by the CA", certs[0].Subject)
			}
			reqs := kcm.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d CSRs created, want 1", len(reqs))
			}
			checkCSR(t, reqs[0], "worker-1", key, tc.usages)

			// A rerun with the same key (after a power loss) picks up the same request.
			again, err := request(ctx, kcm.client, testTokenID, "worker-1", key)
			if err != nil || string(again) != string(certPEM) {
				t.Errorf("rerun: %v, same certificate %v", err, string(again) == string(certPEM))
			}
		})
	}
}

func TestRequestNotIssued(t *testing.T) {
	tests := []struct {
		name    string
		verdict verdict
		want    error
		wantMsg string
	}{
		{"denied", deny, ErrDenied, `reason "NodeNameMismatch", message "no such node"`},
		{"never approved", ignore, ErrNotIssued, "csrapprover"},
		{"approved, never signed", approveOnly, ErrNotIssued, "csrsigning"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kcm := newFakeKCM(t, tc.verdict)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := request(ctx, kcm.client, testTokenID, "worker-1", newKey(t, "ECDSA-P256"))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want %v mentioning %s", err, tc.want, tc.wantMsg)
			}
			t.Logf("err: %v", err)
			if tc.want == ErrNotIssued && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s, want about the 500ms deadline", took)
			}
		})
	}
}

func TestNodeKubeconfig(t *testing.T) {
	cfg := NodeKubeconfig("https://cp.example.test:6443", "", []byte("CA"), []byte("CERT"), []byte("KEY"), "worker-1")
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || ctx.AuthInfo != "system:node:worker-1" || ctx.Cluster != DefaultClusterName {
		t.Fatalf("current context = %+v, want user system:node:worker-1 in cluster %s", ctx, DefaultClusterName)
	}
	user := cfg.AuthInfos["system:node:worker-1"]
	if string(user.ClientCertificateData) != "CERT" || string(user.ClientKeyData) != "KEY" {
		t.Errorf("user = %+v", user)
	}
	cluster := cfg.Clusters[DefaultClusterName]
	if cluster.Server != "https://cp.example.test:6443" || string(cluster.CertificateAuthorityData) != "CA" {
		t.Errorf("cluster = %+v", cluster)
	}
}
