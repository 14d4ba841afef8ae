package blockdev

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PollInterval is how often a wait for a block device looks again: devices appear as their
// drivers probe them, and without udev sysfs sends no event kiln-init could wait on.
const PollInterval = 100 * time.Millisecond

// Device is one block device as sysfs shows it under /sys/class/block.
type Device struct {
	Name      string // kernel name: vda2, sr0, loop3
	Disk      string // the whole disk: vda for vda2, the device itself for a disk
	Partition int    // partition number (PARTN), 0 for a whole disk
	PartName  string // GPT partition name (PARTNAME)
	Size      int64  // bytes
}

// IsPartition reports whether b is a partition of a disk.
func (b Device) IsPartition() bool { return b.Partition > 0 }

// parseUevent parses a sysfs uevent file: KEY=value lines.
func parseUevent(data string) map[string]string {
	kv := map[string]string{}
	for line := range strings.Lines(data) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k != "" {
			kv[k] = v
		}
	}
	return kv
}

// Scan lists the block devices under sys (normally /sys), sorted by name. Devices that
// vanish while being read are left out.
func Scan(sys string) ([]Device, error) {
	classDir := filepath.Join(sys, "class", "block")
	entries, err := os.ReadDir(classDir)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	var devs []Device
	for _, e := range entries {
		d, err := readDevice(classDir, e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		devs = append(devs, d)
	}
	slices.SortFunc(devs, func(a, b Device) int { return strings.Compare(a.Name, b.Name) })
	return devs, nil
}

// Read reads the device name of sys/class/block (sys is normally /sys).
func Read(sys, name string) (Device, error) {
	return readDevice(filepath.Join(sys, "class", "block"), name)
}

// readDevice reads one device of classDir, /sys/class/block.
func readDevice(classDir, name string) (Device, error) {
	dir := filepath.Join(classDir, name)
	data, err := os.ReadFile(filepath.Join(dir, "uevent"))
	if err != nil {
		return Device{}, fmt.Errorf("read block device %s: %w", name, err)
	}
	kv := parseUevent(string(data))
	d := Device{Name: name, Disk: name, PartName: kv["PARTNAME"]}
	if dn := kv["DEVNAME"]; dn != "" {
		d.Name = dn
		d.Disk = dn
	}
	if kv["DEVTYPE"] == "partition" {
		if d.Partition, err = strconv.Atoi(kv["PARTN"]); err != nil || d.Partition <= 0 {
			return Device{}, fmt.Errorf("block device %s: bad PARTN %q", name, kv["PARTN"])
		}
		// The partition's sysfs directory sits inside its disk's: …/block/vda/vda2.
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return Device{}, fmt.Errorf("block device %s: %w", name, err)
		}
		d.Disk = filepath.Base(filepath.Dir(real))
	}
	sectors, err := os.ReadFile(filepath.Join(dir, "size"))
	if err != nil {
		return Device{}, fmt.Errorf("block device %s: %w", name, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(sectors)), 10, 64)
	if err != nil {
		return Device{}, fmt.Errorf("block device %s: bad size: %w", name, err)
	}
	d.Size = n * 512 // sysfs counts 512-byte sectors whatever the device's sector size
	return d, nil
}

// ByPartName returns the partitions named label.
func ByPartName(devs []Device, label string) []Device {
	var found []Device
	for _, d := range devs {
		if d.IsPartition() && d.PartName == label {
			found = append(found, d)
		}
	}
	return found
}

// Names lists the device names of devs, for messages.
func Names(devs []Device) string {
	var s []string
	for _, d := range devs {
		s = append(s, d.Name)
	}
	return strings.Join(s, ", ")
}
