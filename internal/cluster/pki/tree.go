package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// Action says what CreateTree did with one certificate or key.
type Action string

// Actions CreateTree reports.
const (
	Created Action = "created"
	Reused  Action = "reused"
)

// Result is one line of CreateTree's report.
type Result struct {
	BaseName string
	Action   Action
}

// CreateCAs makes sure the three CAs and the service-account key pair exist in dir: what a
// cluster directory holds and a control-plane node receives.
func CreateCAs(dir string, in *Inputs) ([]Result, error) {
	return create(dir, in, CAs())
}

// CreateTree makes sure every certificate of the table and the service-account key pair exist
// in dir and are valid for in. Valid files are reused; a file that exists but is invalid stops
// the run with an error naming it; missing ones are created, CAs first.
func CreateTree(dir string, in *Inputs) ([]Result, error) {
	return create(dir, in, Certs())
}

func create(dir string, in *Inputs, certs []Cert) ([]Result, error) {
	var results []Result
	for _, c := range certs {
		action, err := ensureCert(dir, in, c)
		if err != nil {
			return results, err
		}
		results = append(results, Result{BaseName: c.BaseName, Action: action})
	}
	action, err := ensureServiceAccountKey(dir, KeyAlgorithm(in.Cluster.EncryptionAlgorithm))
	if err != nil {
		return results, err
	}
	return append(results, Result{BaseName: SABaseName, Action: action}), nil
}

func ensureCert(dir string, in *Inputs, c Cert) (Action, error) {
	cfg, err := c.Config(in)
	if err != nil {
		return "", fmt.Errorf("certificate %s: %w", c.BaseName, err)
	}
	var ca *x509.Certificate
	var caKey crypto.Signer
	if !c.IsCA() {
		if ca, caKey, err = LoadCertAndKey(dir, c.CA); err != nil {
			return "", fmt.Errorf("certificate %s needs its CA: %w", c.BaseName, err)
		}
	}
	cert, _, err := LoadCertAndKey(dir, c.BaseName)
	switch {
	case err == nil:
		if err := checkCert(cert, cfg, ca); err != nil {
			return "", fmt.Errorf("%s: %w: %v (move it away to have it created anew)", CertPath(dir, c.BaseName), ErrInvalidFile, err)
		}
		return Reused, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}

	key, err := in.NewKey()
	if err != nil {
		return "", fmt.Errorf("certificate %s: %w", c.BaseName, err)
	}
	if c.IsCA() {
		cert, err = NewSelfSignedCA(cfg, key)
	} else {
		cert, err = NewSignedCert(cfg, key.Public(), ca, caKey)
	}
	if err != nil {
		return "", err
	}
	if err := WriteCertAndKey(dir, c.BaseName, cert, key); err != nil {
		return "", err
	}
	return Created, nil
}

// checkCert tells whether an existing certificate still says what cfg says, is signed by ca
// (when given) and is valid now.
func checkCert(cert *x509.Certificate, cfg CertConfig, ca *x509.Certificate) error {
	t := now()
	if t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		return fmt.Errorf("valid only from %s to %s", cert.NotBefore.UTC().Format("2006-01-02T15:04Z"), cert.NotAfter.UTC().Format("2006-01-02T15:04Z"))
	}
	if cert.Subject.CommonName != cfg.CommonName {
		return fmt.Errorf("its CN is %q, expected %q", cert.Subject.CommonName, cfg.CommonName)
	}
	if ca == nil {
		if !cert.IsCA {
			return fmt.Errorf("it is not a CA certificate")
		}
		return nil
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("it is not signed by %s: %v", ca.Subject.CommonName, err)
	}
	for _, u := range cfg.Usages {
		if !slices.Contains(cert.ExtKeyUsage, u) {
			return fmt.Errorf("it lacks an extended key usage it needs (%v)", u)
		}
	}
	var missing []string
	for _, n := range cfg.DNSNames {
		if !slices.Contains(cert.DNSNames, n) {
			missing = append(missing, n)
		}
	}
	for _, ip := range cfg.IPs {
		if !containsIP(cert.IPAddresses, ip) {
			missing = append(missing, ip.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("it lacks the SANs %s", strings.Join(missing, ", "))
	}
	return nil
}

// ensureServiceAccountKey makes sure sa.key (0600) and sa.pub (0644) exist and match.
func ensureServiceAccountKey(dir string, alg KeyAlgorithm) (Action, error) {
	keyPath, pubPath := KeyPath(dir, SABaseName), dir+"/"+SABaseName+".pub"
	if exists(keyPath) {
		key, err := LoadKey(keyPath)
		if err != nil {
			return "", err
		}
		pub, err := EncodePublicKey(key.Public())
		if err != nil {
			return "", err
		}
		existing, err := os.ReadFile(pubPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return Reused, atomicfile.WriteFile(pubPath, pub, CertMode)
		case err != nil:
			return "", err
		case string(existing) != string(pub):
			return "", fmt.Errorf("%s: %w: it is not the public half of %s", pubPath, ErrInvalidFile, keyPath)
		}
		return Reused, nil
	}
	if exists(pubPath) {
		return "", fmt.Errorf("%s: %w: its private key %s is missing", pubPath, ErrInvalidFile, keyPath)
	}
	key, err := NewPrivateKey(alg)
	if err != nil {
		return "", fmt.Errorf("service-account key: %w", err)
	}
	keyPEM, err := EncodeKey(key)
	if err != nil {
		return "", err
	}
	pub, err := EncodePublicKey(key.Public())
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(keyPath, keyPEM, KeyMode); err != nil {
		return "", err
	}
	return Created, atomicfile.WriteFile(pubPath, pub, CertMode)
}
