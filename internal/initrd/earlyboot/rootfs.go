package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Labels and paths of a kiln node's boot media (package diskimage writes them).
const (
	LabelRoot   = "KILN-ROOT"          // GPT partition name of the root squashfs
	LabelVar    = "KILN-VAR"           // GPT partition name of /var, the disk's last partition
	LabelISO    = "KILN"               // ISO 9660 volume label of the live ISO
	ISOSquashfs = "kiln/root.squashfs" // the root squashfs inside the ISO
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
	Dev blockDev // the KILN-ROOT partition, or the device holding the KILN ISO
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
		return fmt.Sprintf("the %s ISO on %s", LabelISO, r.Dev.Name)
	}
	return fmt.Sprintf("%s (%s)", LabelRoot, r.Dev.Name)
}

// findRoot looks once among devs for the root: a partition named KILN-ROOT, or else a whole
// device holding an ISO 9660 volume labelled KILN. probe reads a device's filesystem signature.
// It fails when two partitions are named KILN-ROOT, rather than guess which one to boot.
func findRoot(devs []blockDev, probe func(name string) (fsInfo, error)) (rootDev, bool, error) {
	switch parts := byPartName(devs, LabelRoot); len(parts) {
	case 0:
	case 1:
		return rootDev{Dev: parts[0]}, true, nil
	default:
		return rootDev{}, false, fmt.Errorf("%w: %d partitions are named %s (%s); detach all disks but the node's",
			ErrAmbiguous, len(parts), LabelRoot, names(parts))
	}
	for _, d := range devs {
		if d.isPartition() || d.Size == 0 || strings.HasPrefix(d.Name, "loop") || strings.HasPrefix(d.Name, "ram") {
			continue
		}
		info, err := probe(d.Name)
		if err == nil && info.Type == fsISO9660 && info.Label == LabelISO {
			return rootDev{Dev: d, ISO: true}, true, nil
		}
	}
	return rootDev{}, false, nil
}

// waitForRoot polls the block devices until findRoot finds the root or ctx ends.
func waitForRoot(ctx context.Context, sys, dev string) (rootDev, error) {
	var root rootDev
	probe := func(name string) (fsInfo, error) { return probeFile(filepath.Join(dev, name)) }
	err := poll(ctx, fmt.Sprintf("a partition named %s or an ISO labelled %s", LabelRoot, LabelISO), func() (bool, error) {
		devs, err := scanBlockDevs(sys)
		if err != nil {
			return false, err
		}
		r, ok, err := findRoot(devs, probe)
		if err != nil {
			return true, err
		}
		root = r
		return ok, nil
	})
	if errors.Is(err, ErrTimeout) {
		devs, _ := scanBlockDevs(sys)
		return rootDev{}, fmt.Errorf("%w; block devices present: [%s]", err, describeDevs(devs))
	}
	return root, err
}

// describeDevs lists devices with their partition names, for the message when the root is missing.
func describeDevs(devs []blockDev) string {
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
// ISOSquashfs of the ISO through a loop device. It returns a description for the console.
func mountRoot(ctx context.Context, root rootDev, dev string) (string, error) {
	src := filepath.Join(dev, root.Dev.Name)
	if root.File != "" {
		loop, err := attachLoop(ctx, root.File)
		if err != nil {
			return "", err
		}
		defer loop.Close() // after the mount, which keeps the device attached
		src = loop.Name()
	} else if root.ISO {
		if err := mount(src, isoMnt, "iso9660", unix.MS_RDONLY, ""); err != nil {
			return "", err
		}
		loop, err := attachLoop(ctx, filepath.Join(isoMnt, ISOSquashfs))
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
