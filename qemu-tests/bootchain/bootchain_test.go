package bootchain

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testimage.Cleanup()
	os.Exit(code)
}

// probeUnit reports on the console what a test needs to see, then powers the VM off: the file
// Ignition wrote, whether the root is read-only, and how many boots /var remembers.
const probeUnit = `[Unit]
Description=kiln boot-chain probe
After=multi-user.target
[Service]
Type=oneshot
StandardOutput=tty
TTYPath=/dev/ttyS0
ExecStart=/bin/sh -c 'echo "KILN-PROBE file=$(cat /etc/kiln-probe/hello)"; if touch /usr/kiln-probe 2>/dev/null; then echo "KILN-PROBE root=rw"; else echo "KILN-PROBE root=ro"; fi; echo x >> /var/lib/kiln-probe-boots; echo "KILN-PROBE boots=$(wc -l < /var/lib/kiln-probe-boots)"; echo "KILN-PROBE var-mib=$(df -m --output=size /var | tail -1 | tr -d " ")"'
ExecStartPost=/bin/systemctl poweroff --no-block
[Install]
WantedBy=multi-user.target
`

// probeConfig is an Ignition 3.6 config with a file and the probe unit, enabled.
func probeConfig(t *testing.T) []byte {
	t.Helper()
	cfg := map[string]any{
		"ignition": map[string]any{"version": "3.6.0"},
		"storage": map[string]any{"files": []any{map[string]any{
			"path": "/etc/kiln-probe/hello", "mode": 0o644,
			"contents": map[string]any{"source": "data:,written-by-ignition"},
		}}},
		"systemd": map[string]any{"units": []any{map[string]any{
			"name": "kiln-probe.service", "enabled": true, "contents": probeUnit,
		}}},
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	probeFile  = regexp.MustCompile(`KILN-PROBE file=written-by-ignition`)
	probeRO    = regexp.MustCompile(`KILN-PROBE root=ro`)
	probeRW    = regexp.MustCompile(`KILN-PROBE root=rw`)
	ignApplied = regexp.MustCompile(regexp.QuoteMeta(console.InitIgnition))
	ignSkipped = regexp.MustCompile(regexp.QuoteMeta(console.InitSkipped))
	ignFailed  = regexp.MustCompile(regexp.QuoteMeta(console.InitFatal) + `.*` + regexp.QuoteMeta(console.InitIgnitionFailed))
	switching  = regexp.MustCompile(regexp.QuoteMeta(console.InitSwitching))
)

// expectProbe waits for the probe's report and the VM powering itself off.
func expectProbe(ctx context.Context, t *testing.T, vm *harness.VM, boots string) {
	t.Helper()
	for _, re := range []*regexp.Regexp{probeFile, regexp.MustCompile(`KILN-PROBE boots=` + boots + `\b`)} {
		if _, err := vm.WaitFor(ctx, re); err != nil {
			t.Fatalf("waiting for %q: %v", re, err)
		}
	}
	i, _, err := vm.WaitForAny(ctx, probeRO, probeRW)
	if err != nil || i != 0 {
		t.Errorf("the root filesystem is not read-only (%v)", err)
	}
	if err := vm.Wait(ctx); err != nil {
		t.Errorf("the VM did not power itself off: %v", err)
	}
}

// TestFirstAndSecondBoot: (a) the worker image boots to multi-user with its Ignition config
// from fw_cfg, the file and the unit are there and the unit ran, on a read-only root, and VAR
// grew to the end of the larger disk; (b) the same disk boots again without Ignition and keeps
// what the first boot wrote to /etc and /var.
func TestFirstAndSecondBoot(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	disk := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := harness.CreateOverlay(context.Background(), harness.DefaultQEMUImg, img.Raw, "raw", disk, 6<<30); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "config.ign", probeConfig(t))
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	first := harness.Start(t, harness.Config{Name: "first-boot", Disk: disk, DiskFormat: "qcow2",
		FwCfg: []harness.FwCfg{{Name: "opt/com.coreos/config", File: cfg}}})
	if _, err := first.WaitFor(ctx, regexp.MustCompile(regexp.QuoteMeta(console.InitGrewVar))); err != nil {
		t.Fatal(err)
	}
	if _, err := first.WaitFor(ctx, ignApplied); err != nil {
		t.Fatal(err)
	}
	// The image's VAR is 2 GiB; on a 6 GiB disk it must have grown to well over 4 GiB.
	line, err := first.WaitFor(ctx, regexp.MustCompile(`KILN-PROBE var-mib=(\d+)`))
	if err != nil {
		t.Fatal(err)
	}
	mib, _ := strconv.Atoi(regexp.MustCompile(`var-mib=(\d+)`).FindStringSubmatch(line.Text)[1])
	if mib < 4000 {
		t.Errorf("/var has %d MiB on a 6 GiB disk (%q): VAR did not grow", mib, line.Text)
	}
	t.Logf("/var has %d MiB on a 6 GiB disk", mib)
	expectProbe(ctx, t, first, "1")
	vars := first.UEFIVars()
	first.Close()

	second := harness.Start(t, harness.Config{Name: "second-boot", Disk: disk, DiskFormat: "qcow2", UEFIVars: vars,
		FwCfg: []harness.FwCfg{{Name: "opt/com.coreos/config", File: cfg}}})
	if _, err := second.WaitFor(ctx, ignSkipped); err != nil {
		t.Fatal(err)
	}
	expectProbe(ctx, t, second, "2")
}

// TestConfigDrive: (c) the config arrives on an OpenStack-style config drive.
func TestConfigDrive(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "openstack", "latest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "openstack", "latest", "user_data"), probeConfig(t), 0o644); err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(t.TempDir(), "config-2.iso")
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-V", "config-2", "-J", "-R", "-o", iso, tree).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	vm := harness.Start(t, harness.Config{Name: "config-drive", Disk: img.Raw, Overlay: true, OverlaySize: 4 << 30,
		Drives: []harness.Drive{{Path: iso, Media: "cdrom"}}})
	if _, err := vm.WaitFor(ctx, ignApplied); err != nil {
		t.Fatal(err)
	}
	expectProbe(ctx, t, vm, "1")
}

// TestInvalidConfigStops: (e) an invalid config stops the boot with Ignition's error on the
// console, and kiln-init never hands over to systemd.
func TestInvalidConfigStops(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	bad := writeFile(t, "bad.ign", []byte(`{"ignition":{"version":"3.6.0"},"storage":{"files":[{"path":"relative/path"}]}}`))
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm := harness.Start(t, harness.Config{Name: "invalid-config", Disk: img.Raw, Overlay: true,
		FwCfg: []harness.FwCfg{{Name: "opt/com.coreos/config", File: bad}}})
	i, line, err := vm.WaitForAny(ctx, ignFailed, switching)
	if err != nil {
		t.Fatal(err)
	}
	if i != 0 {
		t.Fatalf("kiln-init went on to systemd with an invalid config: %s", line.Text)
	}
	t.Logf("console: %s", line.Text)
	// Nothing after the failure: give it a few seconds to prove it stays stopped.
	wait, cancelWait := context.WithTimeout(ctx, 5*time.Second)
	defer cancelWait()
	if _, err := vm.WaitFor(wait, switching); err == nil {
		t.Fatal("kiln-init switched to systemd after Ignition failed")
	}
	vm.Kill()
}
