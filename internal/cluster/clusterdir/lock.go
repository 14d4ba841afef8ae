package clusterdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lock takes an exclusive flock on the directory dir itself (no lock file is left behind) and
// returns its release. Changes to a cluster directory hold the lock of the directory (tokens.yaml
// is read, changed and replaced under it); Create holds its parent's, so that two runs of "kiln
// cluster init" never race for one path and RemoveLeftovers never removes a live run's work.
func lock(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// tempPrefix is the name of Create's temp directories beside path, before their random suffix.
func tempPrefix(path string) string { return "." + filepath.Base(filepath.Clean(path)) + ".tmp-" }

// RemoveLeftovers removes the temp directories an interrupted Create of path left beside it
// (.NAME.tmp-*, which may hold CA keys) last changed before before, the start of the current
// run, and returns their paths. A missing parent directory holds none.
func RemoveLeftovers(path string, before time.Time) ([]string, error) {
	parent := filepath.Dir(filepath.Clean(path))
	if _, err := os.Stat(parent); os.IsNotExist(err) {
		return nil, nil
	}
	unlock, err := lock(parent)
	if err != nil {
		return nil, err
	}
	defer unlock()
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix(path)) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(before) {
			continue
		}
		leftover := filepath.Join(parent, e.Name())
		if err := os.RemoveAll(leftover); err != nil {
			return removed, fmt.Errorf("remove leftover %s: %w", leftover, err)
		}
		removed = append(removed, leftover)
	}
	return removed, nil
}
