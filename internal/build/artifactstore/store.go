package artifactstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kilnproject/kiln/internal/build/source"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// Modes of the store's directories and content files.
const (
	DirMode  = 0o755
	FileMode = 0o644
)

// Errors callers branch on.
var (
	// ErrHashMismatch marks content whose sha256 is not the one asked for.
	ErrHashMismatch = errors.New("sha256 mismatch")
	// ErrUnpinned marks a Put without a sha256 for a source whose content only a sha256 pins.
	ErrUnpinned = errors.New("no sha256 given")
)

// Entry describes one stored artifact, as the lock file records it.
type Entry struct {
	// Name is the artifact's name in the profile ("kubelet", "pause-image").
	Name string `json:"name"`
	// Version is the artifact's version for people; the store leaves it to the caller.
	Version string `json:"version,omitempty"`
	// Kind says what the artifact is (binary, rootfs, image); the store leaves it to the caller.
	Kind string `json:"kind,omitempty"`
	// Origin is the kind of source the content came from, or OriginBuild.
	Origin source.Kind `json:"origin"`
	// Source is the path, URL or image reference the content came from, or what it was built as.
	Source string `json:"source"`
	// SHA256 is the content's sha256 in lowercase hex.
	SHA256 string `json:"sha256"`
	// Size is the content's length in bytes.
	Size int64 `json:"size"`
	// Inputs is, for a built artifact, the sha256 of everything its build read: while it
	// matches, the build is not run again.
	Inputs string `json:"inputs,omitempty"`
}

// OriginBuild marks an artifact kiln built from other artifacts rather than fetched.
const OriginBuild source.Kind = "build"

// Store is a content-addressed store rooted at a directory.
type Store struct {
	root string
}

// Open opens the store at root, creating its directories when missing.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open artifact store %s: %w", root, err)
	}
	s := &Store{root: abs}
	for _, dir := range []string{s.contentDir(), s.tmpDir()} {
		if err := os.MkdirAll(dir, DirMode); err != nil {
			return nil, fmt.Errorf("open artifact store %s: %w", root, err)
		}
	}
	return s, nil
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) contentDir() string { return filepath.Join(s.root, "sha256") }
func (s *Store) tmpDir() string     { return filepath.Join(s.root, "tmp") }

// Path returns where e's content lives: root/sha256/<hex>.
func (s *Store) Path(e Entry) string { return s.pathOf(e.SHA256) }

func (s *Store) pathOf(sha string) string { return filepath.Join(s.contentDir(), sha) }

// Put stores the content of src under the artifact name and returns its Entry (Version empty).
//
// With wantSHA256 set, content already in the store that hashes to it is returned without
// fetching; a stored file that does not is removed and fetched again. Fetched content whose
// sha256 differs is an ErrHashMismatch error naming the artifact, the source and both hashes,
// and leaves nothing in the store. An empty wantSHA256 is allowed only where the source pins
// itself (see source.NeedsSHA256); the content is then stored under whatever it hashes to.
func (s *Store) Put(ctx context.Context, name string, src source.Source, wantSHA256 string) (Entry, error) {
	if name == "" {
		return Entry{}, fmt.Errorf("put %s: the artifact has no name", src)
	}
	if wantSHA256 == "" && source.NeedsSHA256(src) {
		return Entry{}, fmt.Errorf("artifact %q from %s: %w: only local files and images pinned by digest may go without one", name, src, ErrUnpinned)
	}
	if wantSHA256 != "" && !source.ValidSHA256(wantSHA256) {
		return Entry{}, fmt.Errorf("artifact %q from %s: sha256 %q is not 64 lowercase hex digits", name, src, wantSHA256)
	}
	entry := Entry{Name: name, Origin: src.Kind(), Source: src.String()}
	if wantSHA256 != "" {
		size, ok, err := s.verify(wantSHA256)
		if err != nil {
			return Entry{}, fmt.Errorf("artifact %q: %w", name, err)
		}
		if ok {
			entry.SHA256, entry.Size = wantSHA256, size
			return entry, nil
		}
	}
	sha, size, err := s.fetch(ctx, name, src, wantSHA256)
	if err != nil {
		return Entry{}, err
	}
	entry.SHA256, entry.Size = sha, size
	return entry, nil
}

// verify reports whether root/sha256/<sha> exists and hashes to sha, and its size. A file that
// does not hash to its name is removed.
func (s *Store) verify(sha string) (int64, bool, error) {
	path := s.pathOf(sha)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("check stored content: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return 0, false, fmt.Errorf("check stored content %s: %w", path, err)
	}
	if hex.EncodeToString(h.Sum(nil)) == sha {
		return size, true, nil
	}
	if err := os.Remove(path); err != nil {
		return 0, false, fmt.Errorf("remove corrupt stored content: %w", err)
	}
	return 0, false, nil
}

// fetch streams src into a temp file while hashing it and renames it into place when its hash
// is wantSHA256 (or anything, when wantSHA256 is empty).
func (s *Store) fetch(ctx context.Context, name string, src source.Source, wantSHA256 string) (sha string, size int64, err error) {
	tmp, err := atomicfile.Create(s.tmpDir(), "put", FileMode)
	if err != nil {
		return "", 0, fmt.Errorf("artifact %q: %w", name, err)
	}
	defer tmp.Cleanup()
	h := sha256.New()
	counter := &countingWriter{w: io.MultiWriter(tmp, h)}
	if err := src.Fetch(ctx, counter); err != nil {
		return "", 0, fmt.Errorf("artifact %q: %w", name, err)
	}
	sha = hex.EncodeToString(h.Sum(nil))
	if wantSHA256 != "" && sha != wantSHA256 {
		return "", 0, fmt.Errorf("artifact %q from %s: %w: expected %s, got %s", name, src, ErrHashMismatch, wantSHA256, sha)
	}
	if err := tmp.Commit(s.pathOf(sha)); err != nil {
		return "", 0, fmt.Errorf("artifact %q: store content: %w", name, err)
	}
	return sha, counter.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Verify checks that e's content is in the store and still hashes to e.SHA256 (a file that
// does not is removed).
func (s *Store) Verify(e Entry) error {
	_, ok, err := s.verify(e.SHA256)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("artifact %q: sha256:%s is not in the store %s", e.Name, e.SHA256, s.root)
	}
	return nil
}

// TempDir is a directory on the store's filesystem for content being made; Put of a file
// from there is a rename-cheap copy into the store.
func (s *Store) TempDir() string { return s.tmpDir() }
