package artifactstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kilnproject/kiln/internal/build/source"
)

const (
	goodBody = "kubelet v1.36.3 for linux/amd64"
	badBody  = "kubelet v1.36.3 with a flipped bit"
)

var goodSHA = sha256hex(goodBody)

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// server serves body at every path and counts the requests.
func server(t *testing.T, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func httpSource(t *testing.T, srv *httptest.Server, sha string) source.Source {
	t.Helper()
	src, err := source.Parse(srv.URL+"/kubelet", sha, source.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storedFiles lists every non-directory under the store's root.
func storedFiles(t *testing.T, s *Store) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(s.Root(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(s.Root(), path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestPutFromHTTP(t *testing.T) {
	s := openStore(t)
	srv, hits := server(t, goodBody)
	src := httpSource(t, srv, goodSHA)

	e, err := s.Put(context.Background(), "kubelet", src, goodSHA)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	want := Entry{Name: "kubelet", Origin: source.KindHTTP, Source: srv.URL + "/kubelet", SHA256: goodSHA, Size: int64(len(goodBody))}
	if e != want {
		t.Errorf("Put = %+v, want %+v", e, want)
	}
	if got := s.Path(e); got != filepath.Join(s.Root(), "sha256", goodSHA) {
		t.Errorf("Path = %s", got)
	}
	data, err := os.ReadFile(s.Path(e))
	if err != nil || string(data) != goodBody {
		t.Fatalf("stored content = %q, %v", data, err)
	}
	info, err := os.Stat(s.Path(e))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("stored mode = %o, want 644", info.Mode().Perm())
	}
	if files := storedFiles(t, s); len(files) != 1 {
		t.Errorf("store holds %v, want only the content", files)
	}

	// The second Put finds the content and does not fetch.
	again, err := s.Put(context.Background(), "kubelet", src, goodSHA)
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if again != want {
		t.Errorf("second Put = %+v, want %+v", again, want)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestPutRefusesCorruptDownload(t *testing.T) {
	s := openStore(t)
	srv, _ := server(t, badBody)
	src := httpSource(t, srv, goodSHA)

	_, err := s.Put(context.Background(), "kubelet", src, goodSHA)
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Put = %v, want ErrHashMismatch", err)
	}
	for _, part := range []string{`"kubelet"`, src.String(), goodSHA, sha256hex(badBody)} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %s", err, part)
		}
	}
	if files := storedFiles(t, s); len(files) != 0 {
		t.Errorf("a refused download left %v in the store", files)
	}
}

func TestPutRefetchesCorruptCache(t *testing.T) {
	s := openStore(t)
	srv, hits := server(t, goodBody)
	src := httpSource(t, srv, goodSHA)
	e, err := s.Put(context.Background(), "kubelet", src, goodSHA)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(e), []byte("bit rot"), 0o644); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Put(context.Background(), "kubelet", src, goodSHA); err != nil {
		t.Fatalf("Put over a corrupt cache: %v", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("server got %d requests, want 2 (the corrupt file refetched)", n)
	}
	if data, err := os.ReadFile(s.Path(e)); err != nil || string(data) != goodBody {
		t.Errorf("stored content = %q, %v; want the good content", data, err)
	}
}

func TestPutLocalFile(t *testing.T) {
	s := openStore(t)
	path := filepath.Join(t.TempDir(), "kubelet")
	if err := os.WriteFile(path, []byte(goodBody), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := source.Parse(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		is         error
	}{
		{"unpinned: stored under its hash", "", nil},
		{"pinned", goodSHA, nil},
		{"pinned wrong", sha256hex(badBody), ErrHashMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := s.Put(context.Background(), "kubelet", src, tc.want)
			if tc.is != nil {
				if !errors.Is(err, tc.is) {
					t.Fatalf("Put = %v, want %v", err, tc.is)
				}
				return
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if e.SHA256 != goodSHA || e.Origin != source.KindFile || e.Source != path || e.Size != int64(len(goodBody)) {
				t.Errorf("Put = %+v", e)
			}
		})
	}
}

func TestPutRefusesBadRequests(t *testing.T) {
	s := openStore(t)
	srv, hits := server(t, goodBody)
	src := httpSource(t, srv, goodSHA)
	tag, err := source.Parse("oci://127.0.0.1:1/pause:3.10", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, artifact string
		src            source.Source
		want           string
		is             error
	}{
		{"URL without sha256", "kubelet", src, "", ErrUnpinned},
		{"image by tag without sha256", "pause", tag, "", ErrUnpinned},
		{"malformed sha256", "kubelet", src, "abc", nil},
		{"no name", "", src, goodSHA, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(context.Background(), tc.artifact, tc.src, tc.want)
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Put = %v, want %v", err, tc.is)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("refused Puts made %d requests", n)
	}
}

// TestConcurrentPuts has several Puts of the same artifact race through one store.
func TestConcurrentPuts(t *testing.T) {
	s := openStore(t)
	srv, _ := server(t, goodBody)
	src := httpSource(t, srv, goodSHA)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Put(context.Background(), "kubelet", src, goodSHA)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("Put: %v", err)
		}
	}
	if files := storedFiles(t, s); len(files) != 1 || files[0] != filepath.Join("sha256", goodSHA) {
		t.Errorf("store holds %v", files)
	}
	if data, err := os.ReadFile(filepath.Join(s.Root(), "sha256", goodSHA)); err != nil || string(data) != goodBody {
		t.Errorf("stored content = %q, %v", data, err)
	}
}
