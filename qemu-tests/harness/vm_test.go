package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDirectKernelBoot boots Debian's kernel with a Go /init that says hello and powers off,
// and checks that QEMU ends by itself, the console and the timings, and the overlay.
func TestDirectKernelBoot(t *testing.T) {
	RequireVM(t)
	kernel, rootfs, kver := debianKernel(t)
	initrd := testInitramfs(t, rootfs, kver)
	base := filepath.Join(t.TempDir(), "base.raw")
	if err := os.WriteFile(base, bytes.Repeat([]byte("kiln"), 256<<10), 0o644); err != nil {
		t.Fatal(err)
	}

	vm := Start(t, Config{
		Name: "direct", Kernel: kernel, Initrd: initrd, Append: "console=ttyS0 panic=-1",
		MemoryMiB: 512, CPUs: 1, Disk: base, Overlay: true, OverlaySize: 64 << 20,
		BootDone: regexp.MustCompile(`^hello from init$`),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := vm.WaitFor(ctx, regexp.MustCompile(`^hello from init$`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("init said hello at %s", l.Time.Round(time.Millisecond))
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("qemu did not end by itself after the guest powered off: %v", err)
	}
	requireGone(t, vm)

	if !hasArg(vm.Args(), "virtio-blk-pci,drive=disk0,bootindex=1") || filepath.Ext(vm.Disk()) != ".qcow2" {
		t.Errorf("boot disk %s not attached as a virtio-blk overlay with bootindex=1: %q", vm.Disk(), vm.Args())
	}
	if data, err := os.ReadFile(base); err != nil || !bytes.Equal(data[:4], []byte("kiln")) || len(data) != 1<<20 {
		t.Errorf("base image changed: %v", err)
	}
	if r := vm.ShutdownReason(); r != "guest-shutdown" {
		t.Errorf("shutdown reason %q, want guest-shutdown", r)
	}
	phases := vm.Timings()
	if p := phases[0]; p.Name != "firmware" || !p.Complete || p.End <= 0 || p.End > l.Time {
		t.Errorf("firmware phase %+v: want it to end at \"Linux version\", before %s", p, l.Time)
	}
	if p := phases[len(phases)-1]; p.Name != "total" || !p.Complete || p.End != l.Time {
		t.Errorf("total %+v: want it to end at BootDone, %s", p, l.Time)
	}
	log, err := os.ReadFile(vm.ConsoleLog())
	if err != nil || !regexp.MustCompile(`(?m)^\[ *\d+\.\d{3}s\] hello from init$`).Match(log) {
		t.Errorf("console log %s lacks the timestamped hello line (%v)", vm.ConsoleLog(), err)
	}
}

// TestUEFIFirmware boots OVMF without a disk or NIC to its boot manager and checks
// Powerdown: the firmware ignores the ACPI button, so the harness must stop QEMU itself.
func TestUEFIFirmware(t *testing.T) {
	RequireVM(t)
	bootManager := regexp.MustCompile(`BdsDxe: `)
	vm := Start(t, Config{Name: "uefi", MemoryMiB: 256, CPUs: 1, BootDone: bootManager})
	for _, want := range []string{"if=pflash,format=raw,unit=0,readonly=on,file=" + DefaultOVMFCode, "virtio-rng-pci", "-no-reboot"} {
		if !hasArg(vm.Args(), want) {
			t.Errorf("command line lacks %q: %q", want, vm.Args())
		}
	}
	if filepath.Dir(vm.UEFIVars()) != vm.Dir() {
		t.Errorf("VARS %s is not a copy in the VM's directory %s", vm.UEFIVars(), vm.Dir())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := vm.WaitFor(ctx, bootManager)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OVMF boot manager at %s: %s", l.Time.Round(time.Millisecond), l.Text)

	pdCtx, pdCancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer pdCancel()
	err = vm.Powerdown(pdCtx)
	if err != nil && !errors.Is(err, ErrPowerdownTimeout) {
		t.Fatalf("powerdown: %v", err)
	}
	if err != nil {
		t.Log("the firmware ignored the ACPI power button; Powerdown stopped QEMU itself")
	}
	if r := vm.ShutdownReason(); r != "host-qmp-quit" && r != "guest-shutdown" {
		t.Errorf("shutdown reason %q", r)
	}
	requireGone(t, vm)
}

// TestLaunchFailure starts a QEMU that rejects its command line: Launch must report QEMU's
// message and leave neither a process nor its temporary directory behind.
func TestLaunchFailure(t *testing.T) {
	RequireVM(t)
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "kiln-vm-broken-*"))
	vm, err := Launch(context.Background(), Config{Name: "broken", Accel: "tcg", ExtraArgs: []string{"-device", "no-such-device"}})
	if err == nil {
		vm.Close()
		t.Fatal("Launch succeeded with an unknown device")
	}
	if !strings.Contains(err.Error(), "no-such-device") {
		t.Errorf("error lacks QEMU's message: %v", err)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "kiln-vm-broken-*"))
	if len(after) != len(before) {
		t.Errorf("temporary directories left: %v", after)
	}
}

// TestKill cuts the power of a VM that is still in its firmware; the VM runs at background
// priority, which its threads must all have.
func TestKill(t *testing.T) {
	RequireVM(t)
	vm := Start(t, Config{Name: "kill", MemoryMiB: 256, CPUs: 1, Nice: NiceBackground})
	requireNice(t, vm.PID(), NiceBackground)
	if err := vm.Kill(); err != nil {
		t.Fatal(err)
	}
	requireGone(t, vm)
	if err := vm.ExitErr(); err == nil || err.Error() != "signal: killed" {
		t.Errorf("qemu exit after Kill: %v, want signal: killed", err)
	}
	if _, err := vm.WaitFor(context.Background(), regexp.MustCompile(`never`)); !errors.Is(err, ErrConsoleClosed) {
		t.Errorf("wait after Kill: %v, want ErrConsoleClosed", err)
	}
}

// requireNice checks that every thread of process pid runs at nice value want (field 19 of
// /proc/PID/task/TID/stat).
func requireNice(t *testing.T, pid, want int) {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		t.Fatalf("threads of qemu %d: %v", pid, err)
	}
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		// The command name (field 2) may hold spaces; the fields after its ')' do not.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if got := fields[16]; got != strconv.Itoa(want) {
			t.Errorf("%s: nice %s, want %d", stat, got, want)
		}
	}
}
