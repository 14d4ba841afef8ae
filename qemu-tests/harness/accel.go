package harness

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"
)

// EnvAccel, set to "tcg" or "kvm", skips DetectAccel's probe.
const EnvAccel = "KILN_QEMU_ACCEL"

// DefaultAccelProbeTimeout bounds the KVM probe. OVMF reaches its boot manager in about 1 s
// with KVM and 5 s under TCG on these machines; with nested virtualisation that hangs, it never
// does.
const DefaultAccelProbeTimeout = 15 * time.Second

// ovmfBootManager is OVMF's first line on the serial console: its boot manager (BdsDxe)
// trying the boot options.
var ovmfBootManager = regexp.MustCompile(`BdsDxe: `)

var accel struct {
	once   sync.Once
	name   string
	reason string
}

// DetectAccel returns the accelerator for VMs: "kvm" only when /dev/kvm opens and a probe VM
// with KVM boots OVMF to its boot manager within DefaultAccelProbeTimeout, "tcg" otherwise
// (on these machines /dev/kvm may exist while nested virtualisation hangs). EnvAccel
// overrides it. The answer is computed once per process.
func DetectAccel() string {
	accel.once.Do(func() { accel.name, accel.reason = detectAccel() })
	return accel.name
}

// AccelReason explains DetectAccel's answer.
func AccelReason() string {
	DetectAccel()
	return accel.reason
}

func detectAccel() (name, reason string) {
	switch v := os.Getenv(EnvAccel); v {
	case "tcg", "kvm":
		return v, EnvAccel + "=" + v
	case "":
	default:
		return "tcg", fmt.Sprintf("%s=%q is neither tcg nor kvm", EnvAccel, v)
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg", fmt.Sprintf("no usable /dev/kvm: %v", err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultAccelProbeTimeout)
	defer cancel()
	took, err := ProbeAccel(ctx, "kvm")
	if err != nil {
		return "tcg", fmt.Sprintf("/dev/kvm opens but the probe VM failed: %v", err)
	}
	return "kvm", fmt.Sprintf("probe VM reached the OVMF boot manager in %s", took.Round(time.Millisecond))
}

// ProbeAccel boots a small VM (OVMF, no disk, 256 MiB, 1 CPU) with accelerator name until
// OVMF's boot manager prints on the serial console, stops it, and returns how long that took.
func ProbeAccel(ctx context.Context, name string) (time.Duration, error) {
	vm, err := Launch(ctx, Config{Name: "accel-probe-" + name, Accel: name, Firmware: FirmwareUEFI, MemoryMiB: 256, CPUs: 1})
	if err != nil {
		return 0, err
	}
	defer vm.Close()
	l, err := vm.WaitFor(ctx, ovmfBootManager)
	if err != nil {
		return 0, fmt.Errorf("probe %s: %w", name, err)
	}
	return l.Time, nil
}
