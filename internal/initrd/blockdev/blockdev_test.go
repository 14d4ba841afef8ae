package blockdev

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/testkit/fakesys"
)

// nodeDisk is a kiln disk as the kernel shows it, plus a CD-ROM drive.
var nodeDisk = []fakesys.Dev{
	{Name: "vda", Sectors: 2 << 21},
	{Name: "vda1", Disk: "vda", PartN: 1, PartName: "ESP", Sectors: 512 << 11},
	{Name: "vda2", Disk: "vda", PartN: 2, PartName: "KILN-ROOT", Sectors: 400 << 11},
	{Name: "vda3", Disk: "vda", PartN: 3, PartName: "KILN-VAR", Sectors: 1024 << 11},
	{Name: "sr0", Sectors: 0},
}

func TestParseUevent(t *testing.T) {
	got := parseUevent("MAJOR=254\nMINOR=3\nDEVNAME=vda3\nDEVTYPE=partition\nPARTN=3\nPARTNAME=KILN-VAR\nbroken\n")
	want := map[string]string{"MAJOR": "254", "MINOR": "3", "DEVNAME": "vda3", "DEVTYPE": "partition", "PARTN": "3", "PARTNAME": "KILN-VAR"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseUevent (-want +got):\n%s", diff)
	}
}

func TestScanBlockDevs(t *testing.T) {
	devs, err := Scan(fakesys.Block(t, nodeDisk...))
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Name: "sr0", Disk: "sr0"},
		{Name: "vda", Disk: "vda", Size: 2 << 30},
		{Name: "vda1", Disk: "vda", Partition: 1, PartName: "ESP", Size: 512 << 20},
		{Name: "vda2", Disk: "vda", Partition: 2, PartName: "KILN-ROOT", Size: 400 << 20},
		{Name: "vda3", Disk: "vda", Partition: 3, PartName: "KILN-VAR", Size: 1024 << 20},
	}
	if diff := cmp.Diff(want, devs); diff != "" {
		t.Errorf("Scan (-want +got):\n%s", diff)
	}
}
