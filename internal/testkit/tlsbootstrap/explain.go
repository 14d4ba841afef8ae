package tlsbootstrap

import (
	"context"
	"crypto"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
)

// explainAPIError turns an API error of step into one that names the cause: 401 means the
// token is unknown or expired, 403 that an RBAC binding is missing.
func explainAPIError(err error, tokenID, step string) error {
	switch {
	case apierrors.IsUnauthorized(err) && tokenID != "":
		return fmt.Errorf("%w %s: it is unknown or expired (%s)", ErrTokenRejected, tokenID, step)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: the bootstrap kubeconfig has no bootstrap token, and its credentials are unknown or expired (%s)", ErrTokenRejected, step)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: %s: is ClusterRoleBinding kubeadm:kubelet-bootstrap in place for the token's group? %w", ErrForbidden, step, err)
	}
	return fmt.Errorf("%s: %w", step, err)
}

// explainWait tells why waiting for CSR name ended without a certificate, reading the CSR once
// more (with a little time of its own, as ctx may be spent).
func explainWait(ctx context.Context, client kubernetes.Interface, tokenID, name string, waitErr error) error {
	getCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := client.CertificatesV1().CertificateSigningRequests().Get(getCtx, name, metav1.GetOptions{})
	if err != nil {
		return explainAPIError(err, tokenID, fmt.Sprintf("wait for CertificateSigningRequest %s (%v)", name, waitErr))
	}
	approved := false
	for _, c := range req.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateDenied:
			return fmt.Errorf("%w: CertificateSigningRequest %s: reason %q, message %q (delete it to request again)", ErrDenied, name, c.Reason, c.Message)
		case certificatesv1.CertificateFailed:
			return fmt.Errorf("%w: signing CertificateSigningRequest %s failed: reason %q, message %q", ErrNotIssued, name, c.Reason, c.Message)
		case certificatesv1.CertificateApproved:
			approved = true
		}
	}
	if ctx.Err() == nil {
		return fmt.Errorf("wait for CertificateSigningRequest %s: %w", name, waitErr)
	}
	if approved {
		return fmt.Errorf("%w: CertificateSigningRequest %s was approved but not signed: is kube-controller-manager's csrsigning controller running with the cluster CA (--cluster-signing-cert-file, --cluster-signing-key-file)? %w",
			ErrNotIssued, name, ctx.Err())
	}
	return fmt.Errorf("%w: CertificateSigningRequest %s was not approved: is kube-controller-manager's csrapprover controller running, and ClusterRoleBinding kubeadm:node-autoapprove-bootstrap in place? %w",
		ErrNotIssued, name, ctx.Err())
}

// checkIssued makes sure the signer issued what was asked: a certificate for the request's key
// and subject.
func checkIssued(certPEM []byte, req *nodeCSR, key crypto.Signer) error {
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return fmt.Errorf("parse the issued certificate: %w", err)
	}
	cert := certs[0]
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return fmt.Errorf("the issued certificate is for another key")
	}
	if cert.Subject.CommonName != req.subject.CommonName {
		return fmt.Errorf("the issued certificate is for %q, want %q", cert.Subject.CommonName, req.subject.CommonName)
	}
	return nil
}
