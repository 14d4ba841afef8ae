package harness

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// lockedElsewhere says whether another open file description of path could not take its lock.
func lockedElsewhere(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil && err != syscall.EWOULDBLOCK {
		t.Fatal(err)
	}
	return err == syscall.EWOULDBLOCK
}

// HoldHost holds the lock until the test ends, and waits while someone else holds it.
func TestHoldHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.lock")
	t.Setenv(EnvHostLock, path)

	t.Run("holds until the end", func(t *testing.T) {
		HoldHost(t)
		if !lockedElsewhere(t, path) {
			t.Error("the host is not held during the test")
		}
	})
	if lockedElsewhere(t, path) {
		t.Fatal("the host is still held after the test ended")
	}

	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	const held = 1500 * time.Millisecond
	time.AfterFunc(held, func() { other.Close() })
	t.Run("waits for another holder", func(t *testing.T) {
		start := time.Now()
		HoldHost(t)
		if waited := time.Since(start); waited < held-100*time.Millisecond {
			t.Errorf("took the host after %s while another holder kept it %s", waited, held)
		}
	})
}
