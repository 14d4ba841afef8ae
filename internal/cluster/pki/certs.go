package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math"
	"math/big"
	"net"
	"time"
)

// Backdate is how far before "now" a new certificate becomes valid, to absorb clock skew
// between nodes (kubeadm's CertificateBackdate).
const Backdate = 5 * time.Minute

// CertConfig is what a certificate says about its subject.
type CertConfig struct {
	CommonName   string
	Organization []string
	DNSNames     []string
	IPs          []net.IP
	Usages       []x509.ExtKeyUsage
	Validity     time.Duration
}

// now is the clock certificates are dated from; tests may fix it.
var now = time.Now

// NewSelfSignedCA returns a CA certificate for key, shaped as kubeadm's: KeyEncipherment,
// DigitalSignature and CertSign, with its CN as its only DNS name.
func NewSelfSignedCA(cfg CertConfig, key crypto.Signer) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	start := now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cfg.CommonName, Organization: cfg.Organization},
		DNSNames:              []string{cfg.CommonName},
		NotBefore:             start.Add(-Backdate),
		NotAfter:              start.Add(cfg.Validity),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sign CA %q: %w", cfg.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// NewSignedCert returns a leaf certificate for pub signed by ca, shaped as kubeadm's:
// KeyEncipherment and DigitalSignature, with cfg's extended usages and SANs. It never outlives
// its CA.
func NewSignedCert(cfg CertConfig, pub crypto.PublicKey, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	if cfg.CommonName == "" {
		return nil, fmt.Errorf("a certificate needs a common name")
	}
	if len(cfg.Usages) == 0 {
		return nil, fmt.Errorf("certificate %q needs at least one extended key usage", cfg.CommonName)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	start := now().UTC()
	notAfter := start.Add(cfg.Validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cfg.CommonName, Organization: cfg.Organization},
		DNSNames:     cfg.DNSNames,
		IPAddresses:  cfg.IPs,
		NotBefore:    start.Add(-Backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  cfg.Usages,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign certificate %q: %w", cfg.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

func randomSerial() (*big.Int, error) {
	// In [1, MaxInt64), as kubeadm.
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt64-1))
	if err != nil {
		return nil, fmt.Errorf("random serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
