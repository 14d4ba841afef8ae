package diskimage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

func writeTestRaw(t *testing.T, seed string) (img string, esp []File, squashfs string, table Table) {
	t.Helper()
	return writeTestRawAt(t, Layout{ESPSize: 40 * MiB, VARSize: 64 * MiB, Seed: seed, Time: buildTime})
}

func writeTestRawAt(t *testing.T, l Layout) (img string, esp []File, squashfs string, table Table) {
	t.Helper()
	dir := t.TempDir()
	esp = testESP(t, dir)
	squashfs = randomFile(t, dir, "root.squashfs", 3<<20+123, 9)
	img = filepath.Join(t.TempDir(), "node.raw")
	table, err := WriteRaw(img, esp, squashfs, l)
	if err != nil {
		t.Fatal(err)
	}
	return img, esp, squashfs, table
}

func TestWriteRaw(t *testing.T) {
	img, esp, squashfs, table := writeTestRaw(t, "node-a")

	read, err := ReadPartitions(img)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(table, read); diff != "" {
		t.Errorf("ReadPartitions differs from what WriteRaw returned (-wrote +read):\n%s", diff)
	}
	want := []struct {
		label, typ  string
		start, size int64
	}{
		{bootmedia.LabelESP, bootmedia.TypeESP, 1 * MiB, 40 * MiB},
		{bootmedia.LabelRoot, bootmedia.TypeRoot, 41 * MiB, 4 * MiB},
		{bootmedia.LabelVar, bootmedia.TypeVar, 45 * MiB, 64 * MiB},
	}
	if len(read.Partitions) != len(want) {
		t.Fatalf("got %d partitions, want %d", len(read.Partitions), len(want))
	}
	for i, w := range want {
		p := read.Partitions[i]
		if p.Number != i+1 || p.Label != w.label || p.Type != w.typ || p.Start != w.start || p.Size != w.size {
			t.Errorf("partition %d = %+v, want %s %s at %d size %d", i+1, p, w.label, w.typ, w.start, w.size)
		}
	}
	if read.Size != 110*MiB {
		t.Errorf("image size %d, want %d", read.Size, 110*MiB)
	}

	t.Run("sgdisk", func(t *testing.T) {
		needTools(t, "sgdisk")
		if out := run(t, "sgdisk", "-v", img); !strings.Contains(out, "No problems found") {
			t.Errorf("sgdisk -v:\n%s", out)
		}
		out := run(t, "sgdisk", "-p", img)
		for _, l := range []string{bootmedia.LabelESP, bootmedia.LabelRoot, bootmedia.LabelVar, read.DiskGUID} {
			if !strings.Contains(out, l) {
				t.Errorf("sgdisk -p does not show %s:\n%s", l, out)
			}
		}
		if out := run(t, "sgdisk", "-i", "2", img); !strings.Contains(out, bootmedia.TypeRoot) || !strings.Contains(out, table.Partitions[1].GUID) {
			t.Errorf("sgdisk -i 2:\n%s", out)
		}
	})

	t.Run("esp", func(t *testing.T) {
		p, _ := read.ByLabel(bootmedia.LabelESP)
		checkFATContents(t, extract(t, img, p.Start, p.Size), esp)
	})

	t.Run("root", func(t *testing.T) {
		p, _ := read.ByLabel(bootmedia.LabelRoot)
		want, err := os.ReadFile(squashfs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(extract(t, img, p.Start, p.Size))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:len(want)], want) {
			t.Error("ROOT does not start with the squashfs")
		}
		if bytes.ContainsFunc(got[len(want):], func(r rune) bool { return r != 0 }) {
			t.Error("ROOT is not zero after the squashfs")
		}
	})

	t.Run("sparse", func(t *testing.T) {
		var st syscall.Stat_t
		if err := syscall.Stat(img, &st); err != nil {
			t.Fatal(err)
		}
		// ESP data (~7 MiB) + FATs + ROOT; VAR and free FAT space stay holes.
		used := st.Blocks * 512
		if used >= read.Size {
			t.Skip("the filesystem of the temp dir does not keep holes")
		}
		if used > 20*MiB {
			t.Errorf("image allocates %d bytes of %d, want a sparse file", used, read.Size)
		}
	})
}

func TestWriteRawIsReproducible(t *testing.T) {
	imgA, _, _, a := writeTestRaw(t, "node-a")
	// The same instant in another time zone is the same input.
	imgB, _, _, b := writeTestRawAt(t, Layout{ESPSize: 40 * MiB, VARSize: 64 * MiB, Seed: "node-a",
		Time: buildTime.In(time.FixedZone("CEST", 2*3600))})
	if fileSHA256(t, imgA) != fileSHA256(t, imgB) {
		t.Error("two builds of the same inputs differ")
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("tables differ:\n%s", diff)
	}

	imgC, _, _, c := writeTestRaw(t, "node-c")
	if fileSHA256(t, imgA) == fileSHA256(t, imgC) {
		t.Error("a different seed gives the same image")
	}
	if a.DiskGUID == c.DiskGUID {
		t.Error("a different seed gives the same disk GUID")
	}
	for i := range a.Partitions {
		if a.Partitions[i].GUID == c.Partitions[i].GUID {
			t.Errorf("a different seed gives partition %d the same GUID", i+1)
		}
	}
}

func TestWriteRawDefaults(t *testing.T) {
	img, _, _, table := writeTestRawAt(t, Layout{})
	esp, _ := table.ByLabel(bootmedia.LabelESP)
	v, _ := table.ByLabel(bootmedia.LabelVar)
	if esp.Size != DefaultESPSize || v.Size != DefaultVARSize {
		t.Errorf("ESP %d bytes, VAR %d bytes, want the defaults", esp.Size, v.Size)
	}
	if v.Start+v.Size+MiB != table.Size {
		t.Errorf("VAR ends at %d, image at %d: VAR must be last", v.Start+v.Size, table.Size)
	}
	needTools(t, "sgdisk", "fsck.vfat")
	if out := run(t, "sgdisk", "-v", img); !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", out)
	}
	run(t, "fsck.vfat", "-n", extract(t, img, esp.Start, esp.Size))
}

func TestWriteRawErrors(t *testing.T) {
	dir := t.TempDir()
	squashfs := randomFile(t, dir, "root.squashfs", 1<<20, 9)
	big := randomFile(t, dir, "big", 34<<20, 5)
	missing := filepath.Join(dir, "no-such-kernel")
	for _, tc := range []struct {
		name     string
		esp      []File
		squashfs string
		layout   Layout
		want     error  // errors.Is, if set
		contains string // in the message
	}{
		{name: "missing source", esp: []File{{Path: "kiln/vmlinuz", Source: missing}}, contains: missing, want: os.ErrNotExist},
		{name: "missing squashfs", squashfs: missing, contains: missing, want: os.ErrNotExist},
		{name: "esp too small", esp: []File{{Path: "kiln/initrd.img", Source: big}}, layout: Layout{ESPSize: 34 * MiB}, want: ErrESPTooSmall},
		{name: "esp below FAT32 minimum", layout: Layout{ESPSize: 32 * MiB}, want: ErrInvalidSize},
		{name: "negative var", layout: Layout{VARSize: -1}, want: ErrInvalidSize},
		{name: "absolute path", esp: []File{{Path: "/EFI/BOOT/BOOTX64.EFI"}}, want: ErrInvalidFile},
		{name: "unclean path", esp: []File{{Path: "EFI//BOOTX64.EFI"}}, want: ErrInvalidFile},
		{name: "duplicate", esp: []File{{Path: "a/b"}, {Path: "A/B"}}, want: ErrInvalidFile},
		{name: "file and directory", esp: []File{{Path: "a"}, {Path: "a/b"}}, want: ErrInvalidFile},
		{name: "source and data", esp: []File{{Path: "a", Source: big, Data: []byte("x")}}, want: ErrInvalidFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			sq := squashfs
			if tc.squashfs != "" {
				sq = tc.squashfs
			}
			_, err := WriteRaw(filepath.Join(out, "node.raw"), tc.esp, sq, tc.layout)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not name %s", err, tc.contains)
			}
			if left := dirEntries(t, out); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestReadPartitionsNotGPT(t *testing.T) {
	p := filepath.Join(t.TempDir(), "zero.img")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPartitions(p); err == nil {
		t.Error("no error for a disk without a GPT")
	}
}
