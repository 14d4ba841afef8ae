package fakesys

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Dev is a block device of a fake sysfs tree.
type Dev struct {
	Name     string
	Disk     string // the device's disk, for a partition; empty for a whole disk
	PartN    int    // partition number
	PartName string // GPT partition name
	Sectors  int64  // size in 512-byte sectors
}

// Block writes a sysfs tree holding devs the way the kernel lays it out: the devices under
// devices/…/block/DISK[/PART], and class/block/NAME symlinks to them. It returns the tree's root.
func Block(t testing.TB, devs ...Dev) string {
	t.Helper()
	sys := t.TempDir()
	class := filepath.Join(sys, "class", "block")
	if err := os.MkdirAll(class, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		rel := filepath.Join("devices", "pci0000:00", "block", d.Name)
		uevent := fmt.Sprintf("MAJOR=254\nMINOR=0\nDEVNAME=%s\nDEVTYPE=disk\nDISKSEQ=9\n", d.Name)
		if d.Disk != "" {
			rel = filepath.Join("devices", "pci0000:00", "block", d.Disk, d.Name)
			uevent = fmt.Sprintf("MAJOR=254\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nDISKSEQ=9\nPARTN=%d\n", d.PartN, d.Name, d.PartN)
			if d.PartName != "" {
				uevent += "PARTNAME=" + d.PartName + "\n"
			}
		}
		WriteFile(t, filepath.Join(sys, rel, "uevent"), uevent)
		WriteFile(t, filepath.Join(sys, rel, "size"), fmt.Sprintf("%d\n", d.Sectors))
		if err := os.Symlink(filepath.Join("..", "..", rel), filepath.Join(class, d.Name)); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

// WriteFile writes content to path, creating its directories, and fails the test on error.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
