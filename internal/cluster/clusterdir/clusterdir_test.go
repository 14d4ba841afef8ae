package clusterdir

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
)

func testConfig() *config.Config {
	cfg := config.Default()
	cfg.Cluster.ControlPlaneEndpoint = "api.test.example:6443"
	return cfg
}

func newToken(t *testing.T) *token.Token {
	t.Helper()
	spec := config.BootstrapToken{Description: "test"}
	spec.SetDefaults()
	tok, err := tokensecret.FromConfig(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestConcurrentAddTokenKeepsEveryToken(t *testing.T) {
	d, err := Create(filepath.Join(t.TempDir(), "c"), testConfig(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	before, err := d.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	added := make([]*token.Token, n)
	for i := range added {
		added[i] = newToken(t)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range added {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.AddToken(added[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("AddToken %d: %v", i, err)
		}
	}
	after, err := d.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]bool{}
	for _, tok := range after {
		saved[tok.ID] = true
	}
	for _, tok := range added {
		if !saved[tok.ID] {
			t.Errorf("token %s was not saved", tok.ID)
		}
	}
	if len(after) != len(before)+n {
		t.Errorf("%d tokens saved, want %d", len(after), len(before)+n)
	}
}

func TestCreateAcceptsAnEmptyDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := Create(path, testConfig(), time.Now())
	if err != nil {
		t.Fatalf("Create on an empty directory: %v", err)
	}
	if _, err := Open(d.Path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestCreateRefusesANonEmptyDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c")
	os.Mkdir(path, 0o755)
	os.WriteFile(filepath.Join(path, "keep"), []byte("x"), 0o644)
	if _, err := Create(path, testConfig(), time.Now()); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want not empty", err)
	}
	if b, _ := os.ReadFile(filepath.Join(path, "keep")); string(b) != "x" {
		t.Error("the existing file changed")
	}
}

func TestRemoveLeftoversOfAnInterruptedCreate(t *testing.T) {
	parent := t.TempDir()
	path := filepath.Join(parent, "c")
	old := filepath.Join(parent, ".c.tmp-123")
	os.MkdirAll(filepath.Join(old, "pki"), 0o700)
	os.WriteFile(filepath.Join(old, "pki", "ca.key"), []byte("key"), 0o600)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)
	other := filepath.Join(parent, ".other.tmp-1") // another directory's: not ours to remove
	os.Mkdir(other, 0o700)
	os.Chtimes(other, past, past)

	removed, err := RemoveLeftovers(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != old {
		t.Errorf("removed %v, want [%s]", removed, old)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", old, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("%s removed: %v", other, err)
	}
}

func TestReadTokensErrorsDoNotEchoATokenInTTLOrExpires(t *testing.T) {
	for _, field := range []string{"ttl: abcdef.0123456789abcdef", "expires: abcdef.0123456789abcdef", "description: [abcdef.0123456789abcdef]"} {
		path := filepath.Join(t.TempDir(), TokensFile)
		os.WriteFile(path, []byte("bootstrapTokens:\n- token: ghijkl.0123456789ghijkl\n  "+field+"\n"), 0o600)
		_, err := ReadTokens(path)
		if err == nil {
			t.Errorf("%s: read", field)
		} else if msg := err.Error(); strings.Contains(msg, "0123456789abcdef") || strings.Contains(msg, "0123456789ghijkl") {
			t.Errorf("%s: error echoes a secret: %s", field, msg)
		}
	}
}
