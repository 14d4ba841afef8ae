package earlyboot

import (
	"context"
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

// ErrTimeout marks a wait that ran out of time.
var ErrTimeout = errors.New("timed out")

// pollInterval is how often waits look again.
const pollInterval = 100 * time.Millisecond

// blockDev is one block device as sysfs shows it under /sys/class/block.
type blockDev struct {
	Name      string // kernel name: vda2, sr0, loop3
	Disk      string // the whole disk: vda for vda2, the device itself for a disk
	Partition int    // partition number (PARTN), 0 for a whole disk
	PartName  string // GPT partition name (PARTNAME)
	Size      int64  // bytes
}

// isPartition reports whether b is a partition of a disk.
func (b blockDev) isPartition() bool { return b.Partition > 0 }

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

// scanBlockDevs lists the block devices under sys (normally /sys), sorted by name. Devices that
// vanish while being read are left out.
func scanBlockDevs(sys string) ([]blockDev, error) {
	classDir := filepath.Join(sys, "class", "block")
	entries, err := os.ReadDir(classDir)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	var devs []blockDev
	for _, e := range entries {
		d, err := readBlockDev(classDir, e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		devs = append(devs, d)
	}
	slices.SortFunc(devs, func(a, b blockDev) int { return strings.Compare(a.Name, b.Name) })
	return devs, nil
}

// readBlockDev reads one device of /sys/class/block.
func readBlockDev(classDir, name string) (blockDev, error) {
	dir := filepath.Join(classDir, name)
	data, err := os.ReadFile(filepath.Join(dir, "uevent"))
	if err != nil {
		return blockDev{}, fmt.Errorf("read block device %s: %w", name, err)
	}
	kv := parseUevent(string(data))
	d := blockDev{Name: name, Disk: name, PartName: kv["PARTNAME"]}
	if dn := kv["DEVNAME"]; dn != "" {
		d.Name = dn
		d.Disk = dn
	}
	if kv["DEVTYPE"] == "partition" {
		if d.Partition, err = strconv.Atoi(kv["PARTN"]); err != nil || d.Partition <= 0 {
			return blockDev{}, fmt.Errorf("block device %s: bad PARTN %q", name, kv["PARTN"])
		}
		// The partition's sysfs directory sits inside its disk's: …/block/vda/vda2.
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return blockDev{}, fmt.Errorf("block device %s: %w", name, err)
		}
		d.Disk = filepath.Base(filepath.Dir(real))
	}
	sectors, err := os.ReadFile(filepath.Join(dir, "size"))
	if err != nil {
		return blockDev{}, fmt.Errorf("block device %s: %w", name, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(sectors)), 10, 64)
	if err != nil {
		return blockDev{}, fmt.Errorf("block device %s: bad size: %w", name, err)
	}
	d.Size = n * 512 // sysfs counts 512-byte sectors whatever the device's sector size
	return d, nil
}

// byPartName returns the partitions named label.
func byPartName(devs []blockDev, label string) []blockDev {
	var found []blockDev
	for _, d := range devs {
		if d.isPartition() && d.PartName == label {
			found = append(found, d)
		}
	}
	return found
}

// names lists the device names of devs, for messages.
func names(devs []blockDev) string {
	var s []string
	for _, d := range devs {
		s = append(s, d.Name)
	}
	return strings.Join(s, ", ")
}

// poll calls try every pollInterval until it reports done or fails, or ctx ends; then it returns
// an ErrTimeout error naming what. try's last error, if any, is part of the timeout error.
func poll(ctx context.Context, what string, try func() (done bool, err error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last error
	for {
		done, err := try()
		if done {
			return err
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w waiting for %s (last error: %v)", ErrTimeout, what, last)
			}
			return fmt.Errorf("%w waiting for %s", ErrTimeout, what)
		case <-t.C:
		}
	}
}
