package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesWithMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "key.pem")
	for _, content := range []string{"old", "new"} {
		if err := WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("content %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	assertOnly(t, filepath.Dir(path), "key.pem")
}

func TestWriteFailureLeavesTargetAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o644, func(f *os.File) error {
		f.WriteString("half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the fill error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("target changed to %q", got)
	}
	assertOnly(t, dir, "out")
}

func TestRenameDirectory(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, ".tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Rename(tmp, filepath.Join(dir, "final")); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "final")
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("SyncDir of a missing directory succeeded")
	}
}

func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}

func TestPendingCommitAndCleanup(t *testing.T) {
	dir := t.TempDir()
	p, err := Create(dir, "blob", 0o444)
	if err != nil {
		t.Fatal(err)
	}
	p.WriteString("content")
	if err := p.Commit(filepath.Join(dir, "sha256-abc")); err != nil {
		t.Fatal(err)
	}
	p.Cleanup() // a no-op after Commit
	assertOnly(t, dir, "sha256-abc")
	if fi, _ := os.Stat(filepath.Join(dir, "sha256-abc")); fi.Mode().Perm() != 0o444 {
		t.Errorf("mode %v, want 0444", fi.Mode().Perm())
	}

	abandoned, err := Create(dir, "blob", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	abandoned.WriteString("half")
	abandoned.Cleanup()
	assertOnly(t, dir, "sha256-abc")
}

func TestRenameReplacesAnEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	tmp, final := filepath.Join(dir, ".tmp"), filepath.Join(dir, "final")
	os.Mkdir(tmp, 0o700)
	os.WriteFile(filepath.Join(tmp, "f"), []byte("x"), 0o644)
	os.Mkdir(final, 0o755)
	if err := Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "final")
	if b, _ := os.ReadFile(filepath.Join(final, "f")); string(b) != "x" {
		t.Errorf("final/f holds %q", b)
	}
	// Never a full one.
	os.Mkdir(tmp, 0o700)
	if err := Rename(tmp, final); err == nil {
		t.Error("Rename replaced a non-empty directory")
	}
}
