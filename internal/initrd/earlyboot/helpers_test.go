package earlyboot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fakeDev is a block device of a fake sysfs tree.
type fakeDev struct {
	name, disk string // disk is empty for a whole disk
	partN      int
	partName   string
	sectors    int64
}

// fakeSys writes a sysfs tree holding devs the way the kernel lays it out: the devices under
// devices/…/block/DISK[/PART], and class/block/NAME symlinks to them. It returns the tree's root.
func fakeSys(t *testing.T, devs ...fakeDev) string {
	t.Helper()
	sys := t.TempDir()
	class := filepath.Join(sys, "class", "block")
	if err := os.MkdirAll(class, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		rel := filepath.Join("devices", "pci0000:00", "block", d.name)
		uevent := fmt.Sprintf("MAJOR=254\nMINOR=0\nDEVNAME=%s\nDEVTYPE=disk\nDISKSEQ=9\n", d.name)
		if d.disk != "" {
			rel = filepath.Join("devices", "pci0000:00", "block", d.disk, d.name)
			uevent = fmt.Sprintf("MAJOR=254\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nDISKSEQ=9\nPARTN=%d\n", d.partN, d.name, d.partN)
			if d.partName != "" {
				uevent += "PARTNAME=" + d.partName + "\n"
			}
		}
		writeFile(t, filepath.Join(sys, rel, "uevent"), uevent)
		writeFile(t, filepath.Join(sys, rel, "size"), fmt.Sprintf("%d\n", d.sectors))
		if err := os.Symlink(filepath.Join("..", "..", rel), filepath.Join(class, d.name)); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// needTools skips the test unless the programs are installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// run runs a program and fails the test when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

var lookPath = exec.LookPath
