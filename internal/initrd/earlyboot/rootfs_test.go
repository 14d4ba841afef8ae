package earlyboot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/internal/initrd/blockdev"
	"github.com/kilnproject/kiln/internal/testkit/fakesys"
)

// nodeDisk is a kiln disk as the kernel shows it, plus a CD-ROM drive.
var nodeDisk = []fakesys.Dev{
	{Name: "vda", Sectors: 2 << 21},
	{Name: "vda1", Disk: "vda", PartN: 1, PartName: "ESP", Sectors: 512 << 11},
	{Name: "vda2", Disk: "vda", PartN: 2, PartName: bootmedia.LabelRoot, Sectors: 400 << 11},
	{Name: "vda3", Disk: "vda", PartN: 3, PartName: bootmedia.LabelVar, Sectors: 1024 << 11},
	{Name: "sr0", Sectors: 0},
}

func TestFindRoot(t *testing.T) {
	iso := func(label string) func(string) (blockdev.FSInfo, error) {
		return func(name string) (blockdev.FSInfo, error) {
			if name == "sr0" {
				return blockdev.FSInfo{Type: blockdev.FSISO9660, Label: label}, nil
			}
			return blockdev.FSInfo{}, nil
		}
	}
	cd := fakesys.Dev{Name: "sr0", Sectors: 1 << 20}
	for _, tc := range []struct {
		name    string
		devs    []fakesys.Dev
		probe   func(string) (blockdev.FSInfo, error)
		want    rootDev
		found   bool
		wantErr error
	}{
		{"partition", nodeDisk, iso(bootmedia.ISOVolumeLabel), rootDev{Dev: blockdev.Device{Name: "vda2", Disk: "vda", Partition: 2, PartName: bootmedia.LabelRoot, Size: 400 << 20}}, true, nil},
		{"iso", []fakesys.Dev{cd}, iso(bootmedia.ISOVolumeLabel), rootDev{Dev: blockdev.Device{Name: "sr0", Disk: "sr0", Size: 512 << 20}, ISO: true}, true, nil},
		{"other iso", []fakesys.Dev{cd}, iso("config-2"), rootDev{}, false, nil},
		{"nothing yet", nil, iso(bootmedia.ISOVolumeLabel), rootDev{}, false, nil},
		{"two roots", append([]fakesys.Dev{
			{Name: "vdb", Sectors: 1 << 21},
			{Name: "vdb2", Disk: "vdb", PartN: 2, PartName: bootmedia.LabelRoot, Sectors: 1 << 11},
		}, nodeDisk...), iso(""), rootDev{}, false, ErrAmbiguous},
	} {
		t.Run(tc.name, func(t *testing.T) {
			devs, err := blockdev.Scan(fakesys.Block(t, tc.devs...))
			if err != nil {
				t.Fatal(err)
			}
			got, found, err := findRoot(devs, tc.probe)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("findRoot error = %v, want %v", err, tc.wantErr)
			}
			if found != tc.found {
				t.Errorf("findRoot found = %v, want %v", found, tc.found)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findRoot (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWaitForRootTimeout(t *testing.T) {
	sys := fakesys.Block(t, fakesys.Dev{Name: "vda", Sectors: 100}, fakesys.Dev{Name: "vda1", Disk: "vda", PartN: 1, PartName: "data", Sectors: 50})
	_, err := waitForRoot(context.Background(), sys, t.TempDir(), 250*time.Millisecond)
	if !errors.Is(err, poll.ErrTimeout) {
		t.Fatalf("waitForRoot = %v, want poll.ErrTimeout", err)
	}
	if want := `block devices present: [vda, vda1 "data"]`; !strings.Contains(err.Error(), want) {
		t.Errorf("waitForRoot error %q does not list the devices (%s)", err, want)
	}
}

func TestFindVar(t *testing.T) {
	other := []fakesys.Dev{
		{Name: "vdb", Sectors: 1 << 21},
		{Name: "vdb3", Disk: "vdb", PartN: 3, PartName: bootmedia.LabelVar, Sectors: 1 << 11},
	}
	sys := fakesys.Block(t, append(other, nodeDisk...)...)
	v, err := findVar(sys, "vda")
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "vda3" {
		t.Errorf("findVar on vda = %s, want vda3", v.Name)
	}
	if _, err := findVar(sys, "sr0"); !errors.Is(err, blockdev.ErrNoPartition) {
		t.Errorf("findVar on sr0 = %v, want blockdev.ErrNoPartition", err)
	}
}
