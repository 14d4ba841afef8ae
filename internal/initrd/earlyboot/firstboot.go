package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/internal/initrd/ignition"
)

// Where kiln-init mounts a config drive while reading it, and the kernel command line it writes
// for Ignition.
const (
	configMnt           = RunDir + "/config"
	ignitionCmdlineFile = RunDir + "/ignition.cmdline"
)

// machineIDFirstBoot in /etc/machine-id tells systemd that this is the first boot.
const machineIDFirstBoot = "uninitialized"

// ignition runs Ignition unless its stamp on VAR says it ran on an earlier boot.
func (b *boot) ignition(ctx context.Context) error {
	stamp := filepath.Join(Sysroot, IgnitionStamp)
	if data, err := os.ReadFile(stamp); err == nil {
		b.con.Mark(console.InitSkipped, " (%s: %s); not again", IgnitionStamp, strings.TrimSpace(strings.ReplaceAll(string(data), "\n", " ")))
		return nil
	}
	req := b.cmd.ignitionRequest()
	if why := ignition.NetworkReason(req); why != "" {
		if err := b.networkUp(ctx, why); err != nil {
			return fmt.Errorf("%w: %w", ErrNetwork, err)
		}
	}
	plan, err := ignition.MakePlan(ctx, req, b.sys, ignition.Machine{Sys: b.sys, Dev: b.dev, MountPoint: configMnt, Mount: mount})
	if err != nil {
		return err
	}
	result := "none"
	if plan.Source == "" {
		b.con.Mark(console.InitNoConfig, "")
	} else {
		b.con.Printf("running Ignition (config from %s, platform %s)", plan.Source, plan.Platform)
		applied, err := ignition.Run(ctx, plan, ignition.RunOptions{
			Root: Sysroot, Cmdline: b.cmd.ignitionCmdline(), CmdlineFile: ignitionCmdlineFile,
			Debug: b.cmd.Debug, Emit: b.con.Raw,
		})
		if err != nil {
			return err
		}
		if applied {
			result = "applied"
			b.con.Mark(console.InitIgnition, " from %s", plan.Source)
		} else {
			result = "empty"
			b.con.Mark(console.InitNoConfig, " (%s holds none)", plan.Source)
		}
	}
	preset, err := markFirstBoot(filepath.Join(Sysroot, "etc", "machine-id"))
	if err != nil {
		return err
	}
	if !preset {
		b.con.Printf("warning: the image's /etc/machine-id is set: systemd will not apply the presets of the units Ignition enables")
	}
	if preset && !b.cmd.Has(bootargs.SystemdFirstboot) {
		if err := maskUnitForBoot("/run", firstbootWizard); err != nil {
			return err
		}
	}
	content := fmt.Sprintf("time=%s\nresult=%s\nsource=%s\nplatform=%s\n",
		time.Now().UTC().Format(time.RFC3339), result, plan.Source, plan.Platform)
	if err := atomicfile.WriteFile(stamp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write the Ignition stamp: %w", err)
	}
	return nil
}

// markFirstBoot makes systemd see the node's first boot in the machine-id file p. systemd 252
// takes a boot for the first only when /etc/machine-id is missing or reads "uninitialized" (an
// empty file is not enough), and only then applies the presets, which start the units Ignition
// enabled in this same boot, and commits a new machine ID. So an empty file becomes
// "uninitialized"; a file with an ID stays as it is, and preset is false.
func markFirstBoot(p string) (preset bool, err error) {
	data, err := os.ReadFile(p)
	id := strings.TrimSpace(string(data))
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && id == machineIDFirstBoot:
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", p, err)
	case id != "":
		return false, nil
	}
	if err := atomicfile.WriteFile(p, []byte(machineIDFirstBoot+"\n"), 0o444); err != nil {
		return false, fmt.Errorf("mark the first boot in %s: %w", p, err)
	}
	return true, nil
}

// firstbootWizard asks for a locale, time zone and root password on the console of a first boot,
// and waits for a key press until someone answers: a node that Ignition configures has nobody
// there. bootargs.SystemdFirstboot on the kernel command line leaves the choice to systemd.
const firstbootWizard = "systemd-firstboot.service"

// maskUnitForBoot masks unit for this boot only, with a link to /dev/null in run/systemd/system:
// the initramfs's /run becomes the booted system's.
func maskUnitForBoot(run, unit string) error {
	dir := filepath.Join(run, "systemd", "system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mask %s: %w", unit, err)
	}
	if err := os.Symlink("/dev/null", filepath.Join(dir, unit)); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("mask %s: %w", unit, err)
	}
	return nil
}
