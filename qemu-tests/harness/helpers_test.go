package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/build/initramfs"
)

// rootfsTar returns the Debian rootfs tarball "make rootfs" leaves in the kiln cache, or skips
// the test.
func rootfsTar(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("KILN_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "kiln")
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "rootfs", "*", "rootfs.tar"))
	if len(matches) == 0 {
		t.Skipf("no Debian rootfs tarball under %s/rootfs: run \"make rootfs\"", cache)
	}
	for _, m := range matches {
		if filepath.Base(filepath.Dir(m)) == "current" {
			return m
		}
	}
	return matches[0]
}

// extract unpacks the members matching patterns from tarball into a new directory.
func extract(t *testing.T, tarball string, patterns ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"-xf", tarball, "-C", dir, "--wildcards"}, patterns...)
	if out, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		t.Fatalf("tar %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

// debianKernel extracts the kernel of the rootfs tarball and the modules named, and returns
// the kernel, the extracted tree and the kernel version.
func debianKernel(t *testing.T, modulePatterns ...string) (kernel, rootfs, kver string) {
	t.Helper()
	tarball := rootfsTar(t)
	patterns := []string{"./boot/vmlinuz-*"}
	if len(modulePatterns) > 0 {
		patterns = append(patterns, "./lib", "./usr/lib/modules/*/modules.dep", "./usr/lib/modules/*/modules.builtin")
		for _, p := range modulePatterns {
			patterns = append(patterns, "./usr/lib/modules/*/kernel/"+p)
		}
	}
	rootfs = extract(t, tarball, patterns...)
	kernels, _ := filepath.Glob(filepath.Join(rootfs, "boot", "vmlinuz-*"))
	if len(kernels) != 1 {
		t.Fatalf("want one kernel in %s, found %v", tarball, kernels)
	}
	kver = strings.TrimPrefix(filepath.Base(kernels[0]), "vmlinuz-")
	return kernels[0], rootfs, kver
}

// testInitramfs builds testdata/testinit as /init of an initramfs, with the kernel modules
// named from rootfs, and returns its path.
func testInitramfs(t *testing.T, rootfs, kver string, modules ...string) string {
	t.Helper()
	dir := t.TempDir()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the test init: %v", err)
	}
	initBin := filepath.Join(dir, "init")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", initBin, "./testdata/testinit")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build test init: %v\n%s", err, out)
	}
	b := initramfs.New()
	if err := b.AddFile("/init", initBin, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(modules) > 0 {
		if err := b.AddModules(rootfs, kver, modules...); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "initrd.img")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := b.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// requireGone fails the test if the VM's QEMU process still exists.
func requireGone(t *testing.T, vm *VM) {
	t.Helper()
	if ProcessRunning(vm.PID()) {
		t.Fatalf("qemu pid %d of %s still runs", vm.PID(), vm.Name())
	}
}

func hasArg(args []string, want string) bool {
	for _, a := range args {
		if strings.Contains(a, want) {
			return true
		}
	}
	return false
}
