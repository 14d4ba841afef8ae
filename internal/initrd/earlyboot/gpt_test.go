package earlyboot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/build/diskimage"
)

// rawImage writes a kiln disk image (ESP 40 MiB, ROOT 1 MiB, VAR 64 MiB) and returns its path.
func rawImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sq := filepath.Join(dir, "root.squashfs")
	if err := os.WriteFile(sq, []byte("hsqs not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "node.raw")
	_, err := diskimage.WriteRaw(img, []diskimage.File{{Path: "x", Data: []byte("x")}}, sq,
		diskimage.Layout{ESPSize: 40 << 20, VARSize: 64 << 20, Seed: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// growFile enlarges the image to size, opens it and runs growGPT for label.
func growFile(t *testing.T, img string, size int64, label string) (growth, error) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if size > 0 {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return growGPT(f, fi.Size(), 512, label)
}

func TestGrowGPT(t *testing.T) {
	img := rawImage(t)
	before, err := diskimage.ReadPartitions(img)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := before.ByLabel(LabelVar)

	// A disk that was not enlarged is left alone, byte for byte.
	orig, _ := os.ReadFile(img)
	g, err := growFile(t, img, 0, LabelVar)
	if err != nil {
		t.Fatal(err)
	}
	if g.grew() || g.MovedBackup {
		t.Errorf("growGPT on a fitting disk = %+v, want no change", g)
	}
	if now, _ := os.ReadFile(img); string(now) != string(orig) {
		t.Error("growGPT changed a disk that was not enlarged")
	}

	// Enlarged by 100 MiB and a few odd sectors: VAR grows by 100 MiB, its end stays aligned.
	newSize := before.Size + 100<<20 + 7*512
	g, err = growFile(t, img, newSize, LabelVar)
	if err != nil {
		t.Fatal(err)
	}
	want := growth{Number: 3, Start: v.Start, OldSize: v.Size, NewSize: v.Size + 100<<20, MovedBackup: true}
	if g != want {
		t.Errorf("growGPT = %+v, want %+v", g, want)
	}
	after, err := diskimage.ReadPartitions(img)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range after.Partitions {
		want := before.Partitions[i]
		if p.Label == LabelVar {
			want.Size += 100 << 20
		}
		if p != want {
			t.Errorf("partition %d after growing = %+v, want %+v", i+1, p, want)
		}
	}
	if after.DiskGUID != before.DiskGUID {
		t.Errorf("disk GUID changed from %s to %s", before.DiskGUID, after.DiskGUID)
	}
	if needSgdisk(t) {
		if out := run(t, "sgdisk", "-v", img); !strings.Contains(out, "No problems found") {
			t.Errorf("sgdisk -v after growing:\n%s", out)
		}
	}
	oldBackup := make([]byte, 512)
	f, _ := os.Open(img)
	defer f.Close()
	if _, err := f.ReadAt(oldBackup, before.Size-512); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(oldBackup), "EFI PART") {
		t.Error("the old backup GPT header is still there")
	}

	// Growing again changes nothing.
	if g, err := growFile(t, img, 0, LabelVar); err != nil || g.grew() || g.MovedBackup {
		t.Errorf("second growGPT = %+v, %v; want no change", g, err)
	}
}

func TestGrowGPTNotLast(t *testing.T) {
	img := rawImage(t)
	before, _ := diskimage.ReadPartitions(img)
	g, err := growFile(t, img, before.Size+10<<20, LabelRoot)
	if err != nil {
		t.Fatal(err)
	}
	if g.grew() || !g.MovedBackup {
		t.Errorf("growGPT of a partition that is not last = %+v, want only the backup GPT moved", g)
	}
	if needSgdisk(t) {
		if out := run(t, "sgdisk", "-v", img); !strings.Contains(out, "No problems found") {
			t.Errorf("sgdisk -v:\n%s", out)
		}
	}
}

func TestGrowGPTErrors(t *testing.T) {
	img := rawImage(t)
	if _, err := growFile(t, img, 0, "NOPE"); !errors.Is(err, ErrNoPartition) {
		t.Errorf("growGPT of a missing label = %v, want ErrNoPartition", err)
	}
	before, _ := diskimage.ReadPartitions(img)
	if _, err := growFile(t, img, before.Size-1<<20, LabelVar); !errors.Is(err, ErrDiskShrank) {
		t.Errorf("growGPT of a shrunk disk = %v, want ErrDiskShrank", err)
	}
}

func needSgdisk(t *testing.T) bool {
	t.Helper()
	_, err := lookPath("sgdisk")
	return err == nil
}
