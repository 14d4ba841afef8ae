package tlsbootstrap

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kilnproject/kiln/internal/cluster/pki"
)

// verdict is what the fake controller-manager does with a new CSR.
type verdict int

const (
	approveAndSign verdict = iota
	deny
	approveOnly // the approver runs, the signer does not
	ignore      // neither runs
)

// fakeKCM plays kube-controller-manager's csrapprover and csrsigning controllers on a fake
// clientset, and records every CSR created.
type fakeKCM struct {
	client *fake.Clientset
	ca     *x509.Certificate
	caKey  crypto.Signer

	mu      sync.Mutex
	created []*certificatesv1.CertificateSigningRequest
}

func newFakeKCM(t *testing.T, v verdict) *fakeKCM {
	t.Helper()
	caKey, err := pki.NewPrivateKey("ECDSA-P256")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewSelfSignedCA(pki.CertConfig{CommonName: "kubernetes", Validity: time.Hour}, caKey)
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeKCM{client: fake.NewClientset(), ca: ca, caKey: caKey}
	k.client.PrependReactor("create", "certificatesigningrequests", func(a clienttesting.Action) (bool, runtime.Object, error) {
		req := a.(clienttesting.CreateAction).GetObject().(*certificatesv1.CertificateSigningRequest)
		req.UID = types.UID("uid-" + req.Name)
		k.mu.Lock()
		k.created = append(k.created, req.DeepCopy())
		k.mu.Unlock()
		return false, nil, nil // let the tracker store it
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go k.run(ctx, t, v)
	return k
}

// run decides every undecided CSR, as the controllers would.
func (k *fakeKCM) run(ctx context.Context, t *testing.T, v verdict) {
	csrs := k.client.CertificatesV1().CertificateSigningRequests()
	for ctx.Err() == nil {
		list, _ := csrs.List(ctx, metav1.ListOptions{})
		for i := range list.Items {
			req := &list.Items[i]
			if len(req.Status.Conditions) > 0 || v == ignore {
				continue
			}
			cond := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Status: "True", Reason: "AutoApproved"}
			if v == deny {
				cond = certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Status: "True", Reason: "NodeNameMismatch", Message: "no such node"}
			}
			req.Status.Conditions = append(req.Status.Conditions, cond)
			if v == approveAndSign {
				req.Status.Certificate = k.sign(t, req.Spec.Request)
			}
			if _, err := csrs.UpdateStatus(ctx, req, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
				t.Errorf("fake controller-manager: %v", err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (k *fakeKCM) sign(t *testing.T, csrPEM []byte) []byte {
	block, _ := pem.Decode(csrPEM)
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Errorf("fake controller-manager: parse CSR: %v", err)
		return nil
	}
	cert, err := pki.NewSignedCert(pki.CertConfig{
		CommonName:   req.Subject.CommonName,
		Organization: req.Subject.Organization,
		Usages:       []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		Validity:     time.Hour,
	}, req.PublicKey, k.ca, k.caKey)
	if err != nil {
		t.Errorf("fake controller-manager: sign: %v", err)
		return nil
	}
	return pki.EncodeCert(cert)
}

func (k *fakeKCM) requests() []*certificatesv1.CertificateSigningRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]*certificatesv1.CertificateSigningRequest(nil), k.created...)
}
