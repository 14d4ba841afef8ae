package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/internal/initrd/blockdev"
	"golang.org/x/sys/unix"
)

// Mount points in the initramfs.
const (
	Sysroot = "/sysroot"  // the root filesystem while kiln-init prepares it
	RunDir  = "/run/kiln" // kiln-init's scratch space; moves into the booted system's /run
	RunLog  = RunDir + "/init.log"
	isoMnt  = RunDir + "/iso"
	varMnt  = RunDir + "/var"
)

// DefaultRootTimeout is how long kiln-init waits for the root device to appear.
const DefaultRootTimeout = 30 * time.Second

// ErrAmbiguous marks a label found on more than one device.
var ErrAmbiguous = errors.New("ambiguous")

// rootDev is the device the root filesystem comes from.
type rootDev struct {
	Dev blockdev.Device // the KILN-ROOT partition, or the device holding the KILN ISO
	ISO bool
	// File is a root squashfs in RAM, downloaded over the network; Dev is unset then.
	File string
}

// volatile reports whether the root has no VAR partition beside it: /var then lives in RAM.
func (r rootDev) volatile() bool { return r.ISO || r.File != "" }

func (r rootDev) String() string {
	if r.File != "" {
		return "the root squashfs in RAM (" + r.File + ")"
	}
	if r.ISO {
		return fmt.Sprintf("the %s ISO on %s", bootmedia.ISOVolumeLabel, r.Dev.Name)
	}
	return fmt.Sprintf("%s (%s)", bootmedia.LabelRoot, r.Dev.Name)
}

// findRoot looks once among devs for the root: a partition named KILN-ROOT, or else a whole
// device holding an ISO 9660 volume labelled KILN. probe reads a device's filesystem signature.
// It fails when two partitions are named KILN-ROOT, rather than guess which one to boot.
func findRoot(devs []blockdev.Device, probe func(name string) (blockdev.FSInfo, error)) (rootDev, bool, error) {
	switch parts := blockdev.ByPartName(devs, bootmedia.LabelRoot); len(parts) {
	case 0:
	case 1:
		return rootDev{Dev: parts[0]}, true, nil
	default:
		return rootDev{}, false, fmt.Errorf("%w: %d partitions are named %s (%s); detach all disks but the node's",
			ErrAmbiguous, len(parts), bootmedia.LabelRoot, blockdev.Names(parts))
	}
	for _, d := range devs {
		if d.IsPartition() || d.Size == 0 || strings.HasPrefix(d.Name, "loop") || strings.HasPrefix(d.Name, "ram") {
			continue
		}
		info, err := probe(d.Name)
		if err == nil && info.Type == blockdev.FSISO9660 && info.Label == bootmedia.ISOVolumeLabel {
			return rootDev{Dev: d, ISO: true}, true, nil
		}
	}
	return rootDev{}, false, nil
}

// waitForRoot polls the block devices until findRoot finds the root, for up to timeout.
func waitForRoot(ctx context.Context, sys, dev string, timeout time.Duration) (rootDev, error) {
	var root rootDev
	probe := func(name string) (blockdev.FSInfo, error) { return blockdev.ProbeFile(filepath.Join(dev, name)) }
	err := poll.Until(ctx, poll.Every(blockdev.PollInterval).Within(timeout), func(context.Context) error {
		devs, err := blockdev.Scan(sys)
		if err != nil {
			return err // sysfs changing under Scan: look again
		}
		r, ok, err := findRoot(devs, probe)
		if err != nil {
			return poll.Stop(err)
		}
		if !ok {
			return errNotYet
		}
		root = r
		return nil
	})
	if errors.Is(err, poll.ErrTimeout) {
		devs, _ := blockdev.Scan(sys)
		return rootDev{}, fmt.Errorf("waiting for a partition named %s or an ISO labelled %s: %w; block devices present: [%s]",
			bootmedia.LabelRoot, bootmedia.ISOVolumeLabel, err, describeDevs(devs))
	}
	return root, err
}

// describeDevs lists devices with their partition names, for the message when the root is missing.
func describeDevs(devs []blockdev.Device) string {
	var s []string
	for _, d := range devs {
		if d.PartName != "" {
			s = append(s, fmt.Sprintf("%s %q", d.Name, d.PartName))
		} else {
			s = append(s, d.Name)
		}
	}
	return strings.Join(s, ", ")
}

// mountRoot mounts the root squashfs read-only at Sysroot: the partition itself, or the file
// bootmedia.ISORootSquashfs of the ISO through a loop device. It returns a description for the console.
func mountRoot(ctx context.Context, root rootDev, dev string) (string, error) {
	src := filepath.Join(dev, root.Dev.Name)
	if root.File != "" {
		loop, err := blockdev.AttachLoop(ctx, root.File)
		if err != nil {
			return "", err
		}
		defer loop.Close() // after the mount, which keeps the device attached
		src = loop.Name()
	} else if root.ISO {
		if err := mount(src, isoMnt, "iso9660", unix.MS_RDONLY, ""); err != nil {
			return "", err
		}
		loop, err := blockdev.AttachLoop(ctx, filepath.Join(isoMnt, bootmedia.ISORootSquashfs))
		if err != nil {
			return "", err
		}
		defer loop.Close() // after the mount, which keeps the device attached
		src = loop.Name()
	}
	if err := mount(src, Sysroot, "squashfs", unix.MS_RDONLY, ""); err != nil {
		return "", err
	}
	return src, nil
}
