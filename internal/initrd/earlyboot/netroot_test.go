package earlyboot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckRootURL(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, c := range []struct {
		url, sum string
		ok       bool
	}{
		{"http://10.0.2.100/bundle/worker/root.squashfs", sum, true},
		{"https://boot.example/root.squashfs", sum, true},
		{"tftp://10.0.2.2/root.squashfs", sum, false},
		{"http://10.0.2.100/root.squashfs", "", false},
		{"http://10.0.2.100/root.squashfs", "abc", false},
	} {
		err := checkRootURL(Cmdline{RootURL: c.url, RootSHA256: c.sum})
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalidCmdline)) {
			t.Errorf("checkRootURL(%q, %q) = %v", c.url, c.sum, err)
		}
	}
}

// The root is kept only when its sha256 is the one on the command line; a bad download leaves
// nothing behind and is not retried.
func TestFetchRoot(t *testing.T) {
	content := bytes.Repeat([]byte("squashfs"), 4096)
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		w.Write(content)
	}))
	defer srv.Close()
	sum := sha256.Sum256(content)
	var out bytes.Buffer
	b := &boot{con: newConsole(&out, time.Now()), cmd: Cmdline{RootURL: srv.URL + "/root.squashfs", RootSHA256: hex.EncodeToString(sum[:])}}
	dst := filepath.Join(t.TempDir(), "run", "root.squashfs")
	if err := b.fetchRoot(context.Background(), dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) || !strings.Contains(out.String(), "sha256 verified") {
		t.Fatalf("fetched %d bytes; console %q", len(got), out.String())
	}

	os.Remove(dst)
	requests = 0
	b.cmd.RootSHA256 = strings.Repeat("00", 32)
	err := b.fetchRoot(context.Background(), dst)
	if !errors.Is(err, ErrRootHash) || !strings.Contains(err.Error(), hex.EncodeToString(sum[:])) {
		t.Fatalf("wrong hash: %v", err)
	}
	if requests != 1 {
		t.Errorf("a hash mismatch was retried: %d requests", requests)
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 0 {
		t.Errorf("a refused root left files: %v", entries)
	}
}
