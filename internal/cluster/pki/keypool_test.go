package pki

import (
	"crypto"
	"crypto/ecdsa"
	"errors"
	"sync/atomic"
	"testing"
)

// A pool hands out the keys it made ahead, then makes new ones; another algorithm is made at
// once; a stopped pool still answers.
func TestKeyPool(t *testing.T) {
	var made atomic.Int32
	saved := NewPrivateKey
	NewPrivateKey = func(alg KeyAlgorithm) (crypto.Signer, error) {
		made.Add(1)
		return GenerateKey("ECDSA-P256")
	}
	defer func() { NewPrivateKey = saved }()

	p := NewKeyPool("ECDSA-P256", 3, 2)
	seen := map[*ecdsa.PrivateKey]bool{}
	for range 5 {
		k, err := p.Key("ECDSA-P256")
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.(*ecdsa.PrivateKey)] {
			t.Fatal("a key was handed out twice")
		}
		seen[k.(*ecdsa.PrivateKey)] = true
	}
	if got := made.Load(); got != 5 {
		t.Errorf("%d keys made for 5 taken (3 ahead, 2 on demand)", got)
	}
	if _, err := p.Key("RSA-2048"); err != nil || made.Load() != 6 {
		t.Errorf("another algorithm: %v, %d made", err, made.Load())
	}
	p.Stop()
	p.Stop()
	if _, err := p.Key("ECDSA-P256"); err != nil {
		t.Errorf("a stopped pool: %v", err)
	}
	var none *KeyPool
	if _, err := none.Key(""); err != nil {
		t.Errorf("no pool: %v", err)
	}
}

// A failure to make a key reaches the one who takes it.
func TestKeyPoolError(t *testing.T) {
	saved := NewPrivateKey
	boom := errors.New("no entropy")
	NewPrivateKey = func(KeyAlgorithm) (crypto.Signer, error) { return nil, boom }
	defer func() { NewPrivateKey = saved }()
	p := NewKeyPool("", 1, 1)
	defer p.Stop()
	if _, err := p.Key("RSA-2048"); !errors.Is(err, boom) {
		t.Errorf("Key = %v, want the generator's error", err)
	}
}
