package ignition

import (
	"net"
	"testing"

	"github.com/kilnproject/kiln/internal/initrd/blockdev"
)

func TestFindLabelled(t *testing.T) {
	devs := []blockdev.Device{
		{Name: "sr0", Size: 1 << 20},
		{Name: "sr1", Size: 1 << 20},
		{Name: "sr2"}, // no medium
		{Name: "vdb", Size: 8 << 20},
		{Name: "vdc1", Partition: 1, Size: 8 << 20},
	}
	infos := map[string]blockdev.FSInfo{
		"sr0":  {Type: blockdev.FSISO9660, Label: "KILN"},
		"sr1":  {Type: blockdev.FSISO9660, Label: "config-2"},
		"sr2":  {Type: blockdev.FSISO9660, Label: "cidata"},
		"vdb":  {Type: blockdev.FSVFAT, Label: "cidata"},
		"vdc1": {Type: blockdev.FSXFS, Label: "CFG"},
	}
	probe := func(name string) (blockdev.FSInfo, error) { return infos[name], nil }
	for _, tc := range []struct {
		name  string
		files []LabelledFile
		want  string // device name, "" for none
	}{
		{"config drives in order", configDrives, "sr1"},
		{"cidata on FAT", []LabelledFile{{"cidata", "user-data"}}, "vdb"},
		{"no medium", []LabelledFile{{"KILN-NONE", "x"}}, ""},
		{"unsupported filesystem", []LabelledFile{{"CFG", "x"}}, ""},
	} {
		d, _, f, ok := findLabelled(devs, tc.files, probe)
		if got := map[bool]string{true: d.Name}[ok]; got != tc.want {
			t.Errorf("%s: found %q, want %q", tc.name, got, tc.want)
		}
		if ok && f.Label != infos[d.Name].Label {
			t.Errorf("%s: file %+v does not belong to %s", tc.name, f, d.Name)
		}
	}
}

func TestUsableAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"10.0.2.15": true, "169.254.2.15": true, "192.168.100.11": true,
		"fe80::1": false, "127.0.0.1": false, "2001:db8::1": true,
	} {
		if got := usableAddress(net.ParseIP(addr)); got != want {
			t.Errorf("usableAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}
