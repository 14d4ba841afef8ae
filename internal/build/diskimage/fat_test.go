package diskimage

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShortNames(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  []string // 8+3 bytes, in order of names
		lfn   []bool
	}{
		{[]string{"BOOTX64.EFI"}, []string{"BOOTX64 EFI"}, []bool{false}},
		{[]string{"EFI"}, []string{"EFI        "}, []bool{false}},
		{[]string{"vmlinuz"}, []string{"VMLINUZ    "}, []bool{true}},
		{[]string{"loader.conf"}, []string{"LOADER~1CON"}, []bool{true}},
		{[]string{"initrd-1.img", "initrd-2.img", "initrd.img"}, []string{"INITRD-1IMG", "INITRD-2IMG", "INITRD  IMG"}, []bool{true, true, true}},
		{[]string{"kernel-image-1.img", "kernel-image-2.img"}, []string{"KERNEL~1IMG", "KERNEL~2IMG"}, []bool{true, true}},
		{[]string{"a b.c", "AB.C"}, []string{"AB~1    C  ", "AB      C  "}, []bool{true, false}},
		{[]string{".hidden"}, []string{"HIDDEN~1   "}, []bool{true}},
		{[]string{"x.tar.gz"}, []string{"XTAR~1  GZ "}, []bool{true}},
		{[]string{"kiln+1.conf"}, []string{"KILN_1~1CON"}, []bool{true}},
	} {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			d := &node{dir: true}
			for _, n := range tc.names {
				d.children = append(d.children, &node{name: n, parent: d})
			}
			if err := assignShortNames(d); err != nil {
				t.Fatal(err)
			}
			for i, c := range d.children {
				if string(c.short[:]) != tc.want[i] || c.lfn != tc.lfn[i] {
					t.Errorf("%s: short %q lfn %v, want %q %v", c.name, c.short, c.lfn, tc.want[i], tc.lfn[i])
				}
			}
		})
	}
}

func TestFATGeometry(t *testing.T) {
	for _, tc := range []struct {
		size    int64
		spc     uint32
		wantErr bool
	}{
		{size: 32 * MiB, wantErr: true},
		{size: 33 * MiB, spc: 1},
		{size: 64 * MiB, spc: 1}, // go-diskfs v1.9.4 fails at exactly this size
		{size: 260 * MiB, spc: 1},
		{size: 261 * MiB, spc: 8},
		{size: 33*MiB + 100, wantErr: true},
	} {
		g, err := newFATGeometry(tc.size)
		if tc.wantErr {
			if !errors.Is(err, ErrInvalidSize) {
				t.Errorf("%d: error %v, want ErrInvalidSize", tc.size, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%d: %v", tc.size, err)
			continue
		}
		if g.spc != tc.spc {
			t.Errorf("%d: geometry %+v, want %d sectors per cluster", tc.size, g, tc.spc)
		}
	}
	// Every size: the FAT covers all clusters, the sectors add up, and the FAT is not larger
	// than it must be.
	for size := int64(MinESPSize); size <= 64<<30; size += size/7 + MiB {
		size = alignUp(size, MiB)
		g, err := newFATGeometry(size)
		if err != nil {
			t.Fatalf("%d: %v", size, err)
		}
		used := uint64(fatReserved) + 2*uint64(g.fatSectors) + uint64(g.clusters)*uint64(g.spc)
		switch {
		case (uint64(g.clusters)+2)*4 > uint64(g.fatSectors)*sectorSize:
			t.Errorf("%d: FAT too small: %+v", size, g)
		case used > uint64(g.sectors) || uint64(g.sectors)-used >= uint64(g.spc)+2*uint64(g.spc):
			t.Errorf("%d: %d of %d sectors used: %+v", size, used, g.sectors, g)
		case (uint64(g.clusters)+2)*4 <= uint64(g.fatSectors-2)*sectorSize:
			t.Errorf("%d: FAT larger than needed: %+v", size, g)
		}
	}
}

// TestWriteFATSizes checks FAT32s of the sizes around mkfs.fat's cluster-size steps with
// fsck.vfat and mtools.
func TestWriteFATSizes(t *testing.T) {
	needTools(t, "fsck.vfat", "mcopy")
	files := []File{{Path: "EFI/BOOT/BOOTX64.EFI", Data: []byte("MZ")}, {Path: "a/b/c/d.txt", Data: []byte("deep")}}
	for _, size := range []int64{33 * MiB, 64 * MiB, 261 * MiB} {
		img := filepath.Join(t.TempDir(), "fat.img")
		f, err := os.Create(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		if err := writeFAT(f, 0, size, files, fatVolume{serial: 0x1234abcd, time: buildTime}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		checkFATContents(t, img, files)
		out := run(t, "minfo", "-i", img, "::")
		if !strings.Contains(out, "serial number: 1234ABCD") || !strings.Contains(out, `label="KILN-ESP   "`) {
			t.Errorf("%d MiB: minfo:\n%s", size/MiB, out)
		}
	}
}

func TestFATTimestamps(t *testing.T) {
	img := filepath.Join(t.TempDir(), "fat.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeFAT(f, 0, MinESPSize, []File{{Path: "a", Data: []byte("x")}}, fatVolume{time: buildTime}); err != nil {
		t.Fatal(err)
	}
	g, _ := newFATGeometry(MinESPSize)
	root := make([]byte, 3*dirEntrySize)
	if _, err := f.ReadAt(root, g.clusterOffset(fatRootCluster)); err != nil {
		t.Fatal(err)
	}
	wantDate, wantTime := fatDateTime(buildTime)
	for i := range 3 { // volume label, long name of "a", short entry of "a"
		e := root[i*dirEntrySize:]
		if e[11] == attrLongName {
			continue
		}
		for _, off := range []int{14, 22} {
			if tm := binary.LittleEndian.Uint16(e[off:]); tm != wantTime {
				t.Errorf("entry %d: time at %d is %#x, want %#x", i, off, tm, wantTime)
			}
		}
		for _, off := range []int{16, 18, 24} {
			if d := binary.LittleEndian.Uint16(e[off:]); d != wantDate {
				t.Errorf("entry %d: date at %d is %#x, want %#x", i, off, d, wantDate)
			}
		}
	}
}

func TestFATFitSize(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		size int // of one file
		want int64
	}{
		{"small", 1000, MinESPSize},
		{"40 MiB", 40 << 20, 41 * MiB},
		{"300 MiB (4 KiB clusters)", 300 << 20, 301 * MiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, int64(tc.size)); err != nil {
				t.Fatal(err)
			}
			files := []File{{Path: "kiln/initrd.img", Source: p}}
			got, err := fatFitSize(files)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("fatFitSize = %d MiB, want %d MiB", got/MiB, tc.want/MiB)
			}
			if err := checkFAT(files, got); err != nil {
				t.Errorf("does not fit into its own size: %v", err)
			}
			if got > MinESPSize {
				if err := checkFAT(files, got-MiB); !errors.Is(err, ErrESPTooSmall) {
					t.Errorf("fits into a MiB less (%v): not the smallest", err)
				}
			}
		})
	}
}
