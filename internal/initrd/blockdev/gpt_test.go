package blockdev

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

// partition is one entry of a GPT, in bytes.
type partition struct {
	Number      int
	Label, Type string
	Start, Size int64
}

// table is a disk's GPT as the tests compare it.
type table struct {
	GUID       string
	Size       int64 // the image's size in bytes
	Partitions []partition
}

func (t table) byLabel(label string) (partition, bool) {
	for _, p := range t.Partitions {
		if p.Label == label {
			return p, true
		}
	}
	return partition{}, false
}

// rawImage writes a disk image laid out as a kiln node's (ESP 40 MiB, ROOT 1 MiB, VAR 64 MiB,
// a MiB at each end for the GPT) and returns its path.
func rawImage(t *testing.T) string {
	t.Helper()
	const mib = 1 << 20
	img := filepath.Join(t.TempDir(), "node.raw")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := int64(107 * mib)
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	gt := &gpt.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, ProtectiveMBR: true,
		GUID: "5A1F0C7E-0000-4000-8000-000000000001"}
	start := uint64(mib)
	for i, p := range []struct {
		label, typ string
		size       uint64
	}{
		{bootmedia.LabelESP, bootmedia.TypeESP, 40 * mib},
		{bootmedia.LabelRoot, bootmedia.TypeRoot, 1 * mib},
		{bootmedia.LabelVar, bootmedia.TypeVar, 64 * mib},
	} {
		gt.Partitions = append(gt.Partitions, &gpt.Partition{Index: i + 1, Start: start / 512, Size: p.size,
			Type: gpt.Type(p.typ), Name: p.label, GUID: fmt.Sprintf("5A1F0C7E-0000-4000-8000-%012d", i+2)})
		start += p.size
	}
	if err := gt.Write(f, size); err != nil {
		t.Fatal(err)
	}
	return img
}

// readTable reads the GPT of the image img.
func readTable(img string) (table, error) {
	f, err := os.Open(img)
	if err != nil {
		return table{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return table{}, err
	}
	gt, err := gpt.Read(f, 512, 512)
	if err != nil {
		return table{}, err
	}
	t := table{GUID: strings.ToUpper(gt.GUID), Size: fi.Size()}
	for _, p := range gt.Partitions {
		t.Partitions = append(t.Partitions, partition{Number: p.Index, Label: p.Name, Type: strings.ToUpper(string(p.Type)),
			Start: int64(p.Start) * 512, Size: int64(p.End-p.Start+1) * 512})
	}
	slices.SortFunc(t.Partitions, func(a, b partition) int { return a.Number - b.Number })
	return t, nil
}

// growFile enlarges the image to size, opens it and runs GrowGPT for label.
func growFile(t *testing.T, img string, size int64, label string) (Growth, error) {
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
	return GrowGPT(f, fi.Size(), 512, label)
}

func TestGrowGPT(t *testing.T) {
	img := rawImage(t)
	before, err := readTable(img)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := before.byLabel(bootmedia.LabelVar)

	// A disk that was not enlarged is left alone, byte for byte.
	orig, _ := os.ReadFile(img)
	g, err := growFile(t, img, 0, bootmedia.LabelVar)
	if err != nil {
		t.Fatal(err)
	}
	if g.Grew() || g.MovedBackup {
		t.Errorf("GrowGPT on a fitting disk = %+v, want no change", g)
	}
	if now, _ := os.ReadFile(img); string(now) != string(orig) {
		t.Error("GrowGPT changed a disk that was not enlarged")
	}

	// Enlarged by 100 MiB and a few odd sectors: VAR grows by 100 MiB, its end stays aligned.
	newSize := before.Size + 100<<20 + 7*512
	g, err = growFile(t, img, newSize, bootmedia.LabelVar)
	if err != nil {
		t.Fatal(err)
	}
	want := Growth{Number: 3, Start: v.Start, OldSize: v.Size, NewSize: v.Size + 100<<20, MovedBackup: true}
	if g != want {
		t.Errorf("GrowGPT = %+v, want %+v", g, want)
	}
	after, err := readTable(img)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range after.Partitions {
		want := before.Partitions[i]
		if p.Label == bootmedia.LabelVar {
			want.Size += 100 << 20
		}
		if p != want {
			t.Errorf("partition %d after growing = %+v, want %+v", i+1, p, want)
		}
	}
	if after.GUID != before.GUID {
		t.Errorf("disk GUID changed from %s to %s", before.GUID, after.GUID)
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
	if g, err := growFile(t, img, 0, bootmedia.LabelVar); err != nil || g.Grew() || g.MovedBackup {
		t.Errorf("second GrowGPT = %+v, %v; want no change", g, err)
	}
}

func TestGrowGPTNotLast(t *testing.T) {
	img := rawImage(t)
	before, _ := readTable(img)
	g, err := growFile(t, img, before.Size+10<<20, bootmedia.LabelRoot)
	if err != nil {
		t.Fatal(err)
	}
	if g.Grew() || !g.MovedBackup {
		t.Errorf("GrowGPT of a partition that is not last = %+v, want only the backup GPT moved", g)
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
		t.Errorf("GrowGPT of a missing label = %v, want ErrNoPartition", err)
	}
	before, _ := readTable(img)
	if _, err := growFile(t, img, before.Size-1<<20, bootmedia.LabelVar); !errors.Is(err, ErrDiskShrank) {
		t.Errorf("GrowGPT of a shrunk disk = %v, want ErrDiskShrank", err)
	}
}

func needSgdisk(t *testing.T) bool {
	t.Helper()
	_, err := exec.LookPath("sgdisk")
	return err == nil
}
