package harness

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// EnvHostLock names the file HoldHost locks; default HostLockFile in the temporary directory.
const EnvHostLock = "KILN_VM_HOST_LOCK"

// HostLockFile is the default lock file of HoldHost, under os.TempDir().
const HostLockFile = "kiln-vm-host.lock"

// HoldHost makes the test the only VM test on this machine running its VMs, until the test
// ends: it waits while another test (in this process or another one, such as the next package
// "go test" runs beside this one) holds the host, logging that it waits and for how long.
//
// Under TCG a control plane alone keeps about one and a half cores busy, and its API server is
// killed by its own probes when it gets less; two VM tests side by side on a small host make
// each other fail. A test calls HoldHost once its images are built, and starts its deadline
// after it, so waiting for the host never counts against the test's own time.
func HoldHost(t testing.TB) {
	t.Helper()
	path := os.Getenv(EnvHostLock)
	if path == "" {
		path = filepath.Join(os.TempDir(), HostLockFile)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("host lock: %v", err)
	}
	start := time.Now()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == syscall.EWOULDBLOCK {
		t.Logf("waiting for the host: another VM test holds %s", path)
		err = flockRetry(f)
		if err == nil {
			t.Logf("holding the host after waiting %s", time.Since(start).Round(time.Second))
		}
	}
	if err != nil {
		f.Close()
		t.Fatalf("host lock %s: %v", path, err)
	}
	// Closing the file releases the lock.
	t.Cleanup(func() { f.Close() })
}

// flockRetry takes the exclusive lock on f, waiting for it; a signal interrupting the wait is
// not a failure.
func flockRetry(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}
