package pin

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const prefix = "sha256:"

// ErrMismatch means no certificate matched any pin.
var ErrMismatch = errors.New("CA public key does not match any pin")

// Hash returns the pin of cert.
func Hash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return prefix + hex.EncodeToString(sum[:])
}

// Validate checks that p is a well-formed sha256 pin.
func Validate(p string) error {
	h, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return fmt.Errorf("pin %q: only sha256:<hex> pins are supported", p)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size || strings.ToLower(h) != h {
		return fmt.Errorf("pin %q: want sha256: followed by 64 lowercase hex digits", p)
	}
	return nil
}

// CheckAny succeeds when any certificate in certs matches any of pins.
func CheckAny(certs []*x509.Certificate, pins []string) error {
	if len(pins) == 0 {
		return errors.New("no CA pin given")
	}
	for _, p := range pins {
		if err := Validate(p); err != nil {
			return err
		}
	}
	var got []string
	for _, c := range certs {
		h := Hash(c)
		for _, p := range pins {
			if h == p {
				return nil
			}
		}
		got = append(got, h)
	}
	return fmt.Errorf("%w: the server's CA is %s, expected %s", ErrMismatch, strings.Join(got, ", "), strings.Join(pins, " or "))
}
