package earlyboot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nodeDisk is a kiln disk as the kernel shows it, plus a CD-ROM drive.
var nodeDisk = []fakeDev{
	{name: "vda", sectors: 2 << 21},
	{name: "vda1", disk: "vda", partN: 1, partName: "ESP", sectors: 512 << 11},
	{name: "vda2", disk: "vda", partN: 2, partName: "KILN-ROOT", sectors: 400 << 11},
	{name: "vda3", disk: "vda", partN: 3, partName: "KILN-VAR", sectors: 1024 << 11},
	{name: "sr0", sectors: 0},
}

func TestParseUevent(t *testing.T) {
	got := parseUevent("MAJOR=254\nMINOR=3\nDEVNAME=vda3\nDEVTYPE=partition\nPARTN=3\nPARTNAME=KILN-VAR\nbroken\n")
	want := map[string]string{"MAJOR": "254", "MINOR": "3", "DEVNAME": "vda3", "DEVTYPE": "partition", "PARTN": "3", "PARTNAME": "KILN-VAR"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseUevent (-want +got):\n%s", diff)
	}
}

func TestScanBlockDevs(t *testing.T) {
	devs, err := scanBlockDevs(fakeSys(t, nodeDisk...))
	if err != nil {
		t.Fatal(err)
	}
	want := []blockDev{
		{Name: "sr0", Disk: "sr0"},
		{Name: "vda", Disk: "vda", Size: 2 << 30},
		{Name: "vda1", Disk: "vda", Partition: 1, PartName: "ESP", Size: 512 << 20},
		{Name: "vda2", Disk: "vda", Partition: 2, PartName: "KILN-ROOT", Size: 400 << 20},
		{Name: "vda3", Disk: "vda", Partition: 3, PartName: "KILN-VAR", Size: 1024 << 20},
	}
	if diff := cmp.Diff(want, devs); diff != "" {
		t.Errorf("scanBlockDevs (-want +got):\n%s", diff)
	}
}

func TestFindRoot(t *testing.T) {
	iso := func(label string) func(string) (fsInfo, error) {
		return func(name string) (fsInfo, error) {
			if name == "sr0" {
				return fsInfo{Type: fsISO9660, Label: label}, nil
			}
			return fsInfo{}, nil
		}
	}
	cd := fakeDev{name: "sr0", sectors: 1 << 20}
	for _, tc := range []struct {
		name    string
		devs    []fakeDev
		probe   func(string) (fsInfo, error)
		want    rootDev
		found   bool
		wantErr error
	}{
		{"partition", nodeDisk, iso("KILN"), rootDev{Dev: blockDev{Name: "vda2", Disk: "vda", Partition: 2, PartName: LabelRoot, Size: 400 << 20}}, true, nil},
		{"iso", []fakeDev{cd}, iso("KILN"), rootDev{Dev: blockDev{Name: "sr0", Disk: "sr0", Size: 512 << 20}, ISO: true}, true, nil},
		{"other iso", []fakeDev{cd}, iso("config-2"), rootDev{}, false, nil},
		{"nothing yet", nil, iso("KILN"), rootDev{}, false, nil},
		{"two roots", append([]fakeDev{
			{name: "vdb", sectors: 1 << 21},
			{name: "vdb2", disk: "vdb", partN: 2, partName: "KILN-ROOT", sectors: 1 << 11},
		}, nodeDisk...), iso(""), rootDev{}, false, ErrAmbiguous},
	} {
		t.Run(tc.name, func(t *testing.T) {
			devs, err := scanBlockDevs(fakeSys(t, tc.devs...))
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
	sys := fakeSys(t, fakeDev{name: "vda", sectors: 100}, fakeDev{name: "vda1", disk: "vda", partN: 1, partName: "data", sectors: 50})
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	_, err := waitForRoot(ctx, sys, t.TempDir())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("waitForRoot = %v, want ErrTimeout", err)
	}
	if want := `block devices present: [vda, vda1 "data"]`; !strings.Contains(err.Error(), want) {
		t.Errorf("waitForRoot error %q does not list the devices (%s)", err, want)
	}
}

func TestFindVar(t *testing.T) {
	other := []fakeDev{
		{name: "vdb", sectors: 1 << 21},
		{name: "vdb3", disk: "vdb", partN: 3, partName: "KILN-VAR", sectors: 1 << 11},
	}
	sys := fakeSys(t, append(other, nodeDisk...)...)
	v, err := findVar(sys, "vda")
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "vda3" {
		t.Errorf("findVar on vda = %s, want vda3", v.Name)
	}
	if _, err := findVar(sys, "sr0"); !errors.Is(err, ErrNoPartition) {
		t.Errorf("findVar on sr0 = %v, want ErrNoPartition", err)
	}
}
