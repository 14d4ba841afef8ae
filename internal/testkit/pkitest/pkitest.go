package pkitest

import (
	"crypto"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/kilnproject/kiln/internal/cluster/pki"
)

//go:embed testdata/*.key
var fixtures embed.FS

var (
	mu   sync.Mutex
	pool = map[pki.KeyAlgorithm][]crypto.Signer{}
	next = map[pki.KeyAlgorithm]int{}
)

// Install replaces pki.NewPrivateKey with a generator that cycles through the fixture keys of
// the requested algorithm (RSA-2048 and ECDSA-P256; others are generated). Call it from
// TestMain: the keys are handed out round-robin, so consecutive keys differ.
func Install() {
	load()
	pki.NewPrivateKey = fixtureKey
}

func fixtureKey(alg pki.KeyAlgorithm) (crypto.Signer, error) {
	if alg == "" {
		alg = "RSA-2048"
	}
	mu.Lock()
	defer mu.Unlock()
	keys := pool[alg]
	if len(keys) == 0 {
		return pki.GenerateKey(alg)
	}
	k := keys[next[alg]%len(keys)]
	next[alg]++
	return k, nil
}

func load() {
	mu.Lock()
	defer mu.Unlock()
	if len(pool) > 0 {
		return
	}
	entries, err := fixtures.ReadDir("testdata")
	if err != nil {
		panic(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := fixtures.ReadFile(path.Join("testdata", name))
		if err != nil {
			panic(err)
		}
		key, err := pki.ParseKey(data)
		if err != nil {
			panic(fmt.Sprintf("fixture %s: %v", name, err))
		}
		alg := pki.KeyAlgorithm("RSA-2048")
		if strings.HasPrefix(name, "ecdsa-p256") {
			alg = "ECDSA-P256"
		}
		pool[alg] = append(pool[alg], key)
	}
}
