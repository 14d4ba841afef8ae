package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	certutil "k8s.io/client-go/util/cert"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// File modes, as kubeadm writes them.
const (
	KeyMode  = 0o600
	CertMode = 0o644
)

// ErrInvalidFile marks an existing certificate or key that cannot be reused.
var ErrInvalidFile = errors.New("invalid existing file")

// CertPath and KeyPath return where the certificate and key of baseName live under dir.
func CertPath(dir, baseName string) string { return filepath.Join(dir, baseName+".crt") }

// KeyPath returns the private key path of baseName under dir.
func KeyPath(dir, baseName string) string { return filepath.Join(dir, baseName+".key") }

// WriteCertAndKey writes key (0600) then cert (0644), each atomically.
func WriteCertAndKey(dir, baseName string, cert *x509.Certificate, key crypto.Signer) error {
	keyPEM, err := EncodeKey(key)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", KeyPath(dir, baseName), err)
	}
	if err := atomicfile.WriteFile(KeyPath(dir, baseName), keyPEM, KeyMode); err != nil {
		return err
	}
	return WriteCert(dir, baseName, cert)
}

// WriteCert writes cert as PEM (0644), atomically.
func WriteCert(dir, baseName string, cert *x509.Certificate) error {
	return atomicfile.WriteFile(CertPath(dir, baseName), EncodeCert(cert), CertMode)
}

// EncodeCert returns cert as a PEM "CERTIFICATE" block.
func EncodeCert(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// LoadCert reads the first certificate of a PEM file.
func LoadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrInvalidFile, err)
	}
	return certs[0], nil
}

// LoadKey reads a PEM private key.
func LoadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrInvalidFile, err)
	}
	return key, nil
}

// LoadCertAndKey reads baseName's certificate and key from dir and checks that they belong
// together. It returns an error wrapping fs.ErrNotExist when neither file exists, and an
// ErrInvalidFile naming the file when only one exists or they do not match.
func LoadCertAndKey(dir, baseName string) (*x509.Certificate, crypto.Signer, error) {
	certPath, keyPath := CertPath(dir, baseName), KeyPath(dir, baseName)
	certExists, keyExists := exists(certPath), exists(keyPath)
	switch {
	case !certExists && !keyExists:
		return nil, nil, fmt.Errorf("%s: %w", certPath, fs.ErrNotExist)
	case !keyExists:
		return nil, nil, fmt.Errorf("%s: %w: its key %s is missing", certPath, ErrInvalidFile, keyPath)
	case !certExists:
		return nil, nil, fmt.Errorf("%s: %w: its certificate %s is missing", keyPath, ErrInvalidFile, certPath)
	}
	cert, err := LoadCert(certPath)
	if err != nil {
		return nil, nil, err
	}
	key, err := LoadKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, fmt.Errorf("%s: %w: the certificate does not belong to the key %s", certPath, ErrInvalidFile, keyPath)
	}
	return cert, key, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
