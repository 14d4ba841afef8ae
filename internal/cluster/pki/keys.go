package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"k8s.io/client-go/util/keyutil"
)

// KeyAlgorithm is kubeadm's encryptionAlgorithm: RSA-2048, RSA-3072, RSA-4096, ECDSA-P256 or
// ECDSA-P384.
type KeyAlgorithm string

// NewPrivateKey generates a key. It is a variable so tests can hand out pre-generated keys
// (see pkitest), which keeps RSA key generation out of test time.
var NewPrivateKey = GenerateKey

// GenerateKey generates a fresh private key of the given algorithm.
func GenerateKey(alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case "RSA-2048", "":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "RSA-3072":
		return rsa.GenerateKey(rand.Reader, 3072)
	case "RSA-4096":
		return rsa.GenerateKey(rand.Reader, 4096)
	case "ECDSA-P256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ECDSA-P384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("unsupported key algorithm %q", alg)
}

// EncodeKey returns key as PEM: "RSA PRIVATE KEY" or "EC PRIVATE KEY", as kubeadm writes them.
func EncodeKey(key crypto.Signer) ([]byte, error) {
	return keyutil.MarshalPrivateKeyToPEM(key)
}

// ParseKey parses a PEM private key of any kind kubeadm writes.
func ParseKey(data []byte) (crypto.Signer, error) {
	k, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", k)
	}
	return s, nil
}

// EncodePublicKey returns the public half of key as a PEM "PUBLIC KEY" block (PKIX).
func EncodePublicKey(key crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// keyAlgorithmOf names the algorithm of an existing key, to check a reused key against the
// configured one.
func keyAlgorithmOf(key crypto.PublicKey) KeyAlgorithm {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return KeyAlgorithm(fmt.Sprintf("RSA-%d", k.N.BitLen()))
	case *ecdsa.PublicKey:
		return KeyAlgorithm("ECDSA-P" + k.Curve.Params().Name[2:])
	}
	return KeyAlgorithm(fmt.Sprintf("%T", key))
}
