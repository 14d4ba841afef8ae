package pki

import (
	"crypto"
	"sync"
	"sync/atomic"
)

// KeyPool generates private keys of one algorithm ahead of need, in the background, so that a
// node's key generation overlaps with what it does before (preflight): a control plane's first
// boot needs a dozen keys, and RSA keys cost seconds each on a slow machine. The keys stay in
// memory until taken; nothing is written.
type KeyPool struct {
	alg   KeyAlgorithm
	size  int64
	taken atomic.Int64
	keys  chan generated
	stop  chan struct{}
	once  sync.Once
}

type generated struct {
	key crypto.Signer
	err error
}

// NewKeyPool starts generating size keys of alg with workers goroutines.
func NewKeyPool(alg KeyAlgorithm, size, workers int) *KeyPool {
	p := &KeyPool{alg: alg, size: int64(size), keys: make(chan generated, size), stop: make(chan struct{})}
	var next atomic.Int64
	for range max(workers, 1) {
		go func() {
			for next.Add(1) <= p.size {
				select {
				case <-p.stop:
					return
				default:
				}
				key, err := NewPrivateKey(alg)
				p.keys <- generated{key, err}
			}
		}()
	}
	return p
}

// Key returns a key of alg: one of the pool's while it has some (waiting for one being made),
// then freshly generated ones. Keys of another algorithm are generated at once.
func (p *KeyPool) Key(alg KeyAlgorithm) (crypto.Signer, error) {
	if p == nil || normalAlg(alg) != normalAlg(p.alg) || p.taken.Add(1) > p.size {
		return NewPrivateKey(alg)
	}
	select {
	case g := <-p.keys:
		return g.key, g.err
	case <-p.stop:
		return NewPrivateKey(alg)
	}
}

// Stop ends the generation of keys not yet started; keys not taken are dropped.
func (p *KeyPool) Stop() {
	if p != nil {
		p.once.Do(func() { close(p.stop) })
	}
}

// normalAlg is alg with kubeadm's default spelled out.
func normalAlg(alg KeyAlgorithm) KeyAlgorithm {
	if alg == "" {
		return "RSA-2048"
	}
	return alg
}
