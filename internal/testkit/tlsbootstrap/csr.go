package tlsbootstrap

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	certutil "k8s.io/client-go/util/cert"
)

// Identity of a node's client certificate, as the Node authorizer and the CSR approver expect.
const (
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// nodeCSR is a node client certificate request, ready to send.
type nodeCSR struct {
	name    string // node-csr-<digest>, as the kubelet names it
	pem     []byte
	subject pkix.Name
	usages  []certificatesv1.KeyUsage
}

// newNodeCSR builds the kubelet's client CSR for nodeName: CN system:node:<name>, O
// system:nodes, usages digital signature and client auth, plus key encipherment for RSA keys.
func newNodeCSR(nodeName string, key crypto.Signer) (*nodeCSR, error) {
	subject := pkix.Name{CommonName: NodeUserPrefix + nodeName, Organization: []string{NodesGroup}}
	pemData, err := certutil.MakeCSR(key, &subject, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("make certificate request for node %s: %w", nodeName, err)
	}
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	if _, ok := key.(*rsa.PrivateKey); ok {
		usages = append(usages, certificatesv1.UsageKeyEncipherment)
	}
	name, err := digestedName(key.Public(), subject, usages)
	if err != nil {
		return nil, err
	}
	return &nodeCSR{name: name, pem: pemData, subject: subject, usages: usages}, nil
}

// digestedName is the kubelet's CSR name: a digest of everything the request asks for, so the
// same request gets the same name (pkg/kubelet/certificate/bootstrap, Apache-2.0).
func digestedName(pub crypto.PublicKey, subject pkix.Name, usages []certificatesv1.KeyUsage) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	encode := base64.RawURLEncoding.EncodeToString
	h := sha512.New512_256()
	write := func(data []byte) {
		h.Write([]byte(encode(data)))
		h.Write([]byte{'|'}) // not in the base64url alphabet, so fields cannot run together
	}
	write(der)
	write([]byte(subject.CommonName))
	for _, o := range subject.Organization {
		write([]byte(o))
	}
	for _, u := range usages {
		write([]byte(u))
	}
	return "node-csr-" + encode(h.Sum(nil)), nil
}
