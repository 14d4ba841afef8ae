package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// An existing empty --dir is what the help accepts; leftovers of an interrupted init beside it
// are removed, and said so.
func TestClusterInitEmptyDirAndLeftovers(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "prod")
	os.Mkdir(dir, 0o755)
	leftover := filepath.Join(parent, ".prod.tmp-42")
	os.MkdirAll(filepath.Join(leftover, "pki"), 0o700)
	os.WriteFile(filepath.Join(leftover, "pki", "ca.key"), []byte("key"), 0o600)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(leftover, past, past)

	_, errOut, code := kiln(t, "cluster", "init", "--dir", dir, "--endpoint", "api.prod.example")
	if code != 0 {
		t.Fatalf("init into an empty dir: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "cluster.yaml")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover %s still there (%v)", leftover, err)
	}
	if !strings.Contains(errOut, "removed "+leftover) {
		t.Errorf("stderr does not name the removed leftover:\n%s", errOut)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("parent holds %d entries, want only prod", len(entries))
	}
}

// Concurrent offline token creations each keep the token they print.
func TestTokenCreateConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	if _, errOut, code := kiln(t, "cluster", "init", "--dir", dir, "--endpoint", "api.example"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	const n = 8
	printed := make([]string, n)
	var wg sync.WaitGroup
	for i := range printed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, code := kiln(t, "token", "create", "--dir", dir)
			if code != 0 {
				t.Errorf("token create: exit %d: %s", code, errOut)
			}
			printed[i] = strings.TrimSpace(out)
		}()
	}
	wg.Wait()
	list, _, _ := kiln(t, "token", "list", "--dir", dir)
	tokenRE := regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)
	for _, tok := range printed {
		if !tokenRE.MatchString(tok) || !strings.Contains(list, tok) {
			t.Errorf("printed token %q not saved", tok)
		}
	}
}
