package blockdev

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/internal/testkit/fakesys"
)

// sparseFile creates a file of size bytes (a hole) in a temp directory.
func sparseFile(t *testing.T, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProbeExt4(t *testing.T) {
	needTools(t, "mke2fs")
	for _, tc := range []struct {
		name  string
		size  int64
		extra []string
	}{
		{"default", 64 << 20, nil},
		{"64bit 1k blocks", 40 << 20, []string{"-O", "64bit", "-b", "1024"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := sparseFile(t, "var.img", tc.size)
			args := append([]string{"-t", "ext4", "-L", bootmedia.LabelVar, "-F", "-q", "-E", "lazy_itable_init=1,lazy_journal_init=1"}, tc.extra...)
			run(t, "mke2fs", append(args, img)...)
			got, err := ProbeFile(img)
			if err != nil {
				t.Fatal(err)
			}
			if want := (FSInfo{Type: FSExt4, Label: bootmedia.LabelVar, Size: tc.size}); got != want {
				t.Errorf("probe = %+v, want %+v", got, want)
			}
		})
	}
}

func TestProbeEmptyAndShort(t *testing.T) {
	for _, size := range []int64{0, 4096, 1 << 20} {
		got, err := ProbeFile(sparseFile(t, "empty", size))
		if err != nil {
			t.Fatal(err)
		}
		if got != (FSInfo{}) {
			t.Errorf("probe of %d zero bytes = %+v, want nothing", size, got)
		}
	}
}

func TestProbeSignatures(t *testing.T) {
	at := func(off int, sig string) []byte {
		b := make([]byte, probeLen)
		copy(b[off:], sig)
		return b
	}
	fat32 := at(0x52, "FAT32   ")
	copy(fat32[0x47:], "CIDATA     ")
	fat32[510], fat32[511] = 0x55, 0xAA
	fat16 := at(0x36, "FAT16   ")
	copy(fat16[0x2B:], "NO NAME    ")
	fat16[510], fat16[511] = 0x55, 0xAA
	iso := at(0x8000, "\x01CD001\x01")
	copy(iso[0x8000+40:], "config-2                        ")
	for _, tc := range []struct {
		name string
		data []byte
		want FSInfo
	}{
		{"xfs", at(0, "XFSB"), FSInfo{Type: FSXFS}},
		{"luks", at(0, "LUKS\xba\xbe"), FSInfo{Type: FSLUKS}},
		{"btrfs", at(0x10040, "_BHRfS_M"), FSInfo{Type: FSBtrfs}},
		{"swap", at(4086, "SWAPSPACE2"), FSInfo{Type: FSSwap}},
		{"squashfs", at(0, "hsqs"), FSInfo{Type: FSSquashfs}},
		{"fat32", fat32, FSInfo{Type: FSVFAT, Label: "CIDATA"}},
		{"fat16 without label", fat16, FSInfo{Type: FSVFAT}},
		{"iso9660", iso, FSInfo{Type: FSISO9660, Label: "config-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Probe(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("probe = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestProbeRealImages(t *testing.T) {
	t.Run("iso9660", func(t *testing.T) {
		needTools(t, "xorriso")
		dir := t.TempDir()
		fakesys.WriteFile(t, filepath.Join(dir, "openstack", "latest", "user_data"), "{}")
		img := filepath.Join(t.TempDir(), "cfg.iso")
		run(t, "xorriso", "-as", "mkisofs", "-quiet", "-V", "config-2", "-J", "-R", "-o", img, dir)
		assertProbe(t, img, FSInfo{Type: FSISO9660, Label: "config-2"})
	})
	t.Run("vfat", func(t *testing.T) {
		needTools(t, "mkfs.vfat")
		img := sparseFile(t, "cidata.img", 8<<20)
		run(t, "mkfs.vfat", "-n", "CIDATA", img)
		assertProbe(t, img, FSInfo{Type: FSVFAT, Label: "CIDATA"})
	})
}

func assertProbe(t *testing.T, img string, want FSInfo) {
	t.Helper()
	got, err := ProbeFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("probe %s = %+v, want %+v", filepath.Base(img), got, want)
	}
}
