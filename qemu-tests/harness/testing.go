package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// EnvVMTests must be "1" for VM tests to run; "make test" sets it.
const EnvVMTests = "KILN_VM_TESTS"

// RequireVM skips the test unless EnvVMTests=1, and fails it when that is set but QEMU,
// qemu-img or OVMF are missing.
func RequireVM(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvVMTests) != "1" {
		t.Skip(EnvVMTests + " is not 1; \"make test\" runs the VM tests")
	}
	var missing []error
	for _, bin := range []string{DefaultQEMU, DefaultQEMUImg} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, err)
		}
	}
	for _, f := range []string{DefaultOVMFCode, DefaultOVMFVars} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, err)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%s=1 but the VM tools are missing (\"make deps\" installs qemu-system-x86, qemu-utils, ovmf): %v",
			EnvVMTests, errors.Join(missing...))
	}
}

// Start launches a VM for the test and registers its end: when the test failed, the console
// tail is logged and QEMU killed by PID at once; in any case QEMU is stopped if it still runs,
// the boot timings are logged, and the test fails if the process is still there. Logs go to
// t.ArtifactDir() (kept with "go test -artifacts"), other files to t.TempDir(), unless cfg
// names directories.
func Start(t testing.TB, cfg Config) *VM {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.LogDir == "" {
		cfg.LogDir = t.ArtifactDir()
	}
	vm, err := Launch(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	why := "set by the test"
	if cfg.Accel == "" {
		why = AccelReason()
	}
	t.Logf("vm %s: qemu pid %d, accel %s (%s), console log %s", vm.Name(), vm.PID(), vm.Accel(), why, vm.ConsoleLog())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("vm %s failed:\n%s", vm.Name(), vm.report())
			if err := vm.Kill(); err != nil {
				t.Error(err)
			}
		}
		if err := vm.Close(); err != nil {
			t.Errorf("vm %s: close: %v", vm.Name(), err)
		}
		t.Log(vm.FormatTimings())
		if ProcessRunning(vm.PID()) {
			t.Errorf("vm %s: qemu pid %d still runs after close", vm.Name(), vm.PID())
		}
	})
	return vm
}

// ProcessRunning reports whether a process with this PID exists and is not a zombie.
func ProcessRunning(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S …": the state follows the last ')'.
	for i := len(data) - 1; i >= 0; i-- {
		if data[i] == ')' {
			return i+2 < len(data) && data[i+2] != 'Z' && data[i+2] != 'X'
		}
	}
	return true
}
