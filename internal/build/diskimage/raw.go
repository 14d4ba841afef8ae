package diskimage

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

// WriteRaw writes the GPT disk image of a node to path: the ESP (a FAT32 with esp), ROOT (the
// file rootSquashfs, byte for byte) and an empty VAR, each starting on a MiB boundary, with a MiB
// at each end for the GPT. It returns the partition table it wrote.
func WriteRaw(path string, esp []File, rootSquashfs string, l Layout) (Table, error) {
	fail := func(err error) (Table, error) { return Table{}, fmt.Errorf("write disk image %s: %w", path, err) }
	espSize, err := partSize("ESP", l.ESPSize, DefaultESPSize)
	if err != nil {
		return fail(err)
	}
	varSize, err := partSize("VAR", l.VARSize, DefaultVARSize)
	if err != nil {
		return fail(err)
	}
	fi, err := os.Stat(rootSquashfs)
	if err != nil {
		return fail(fmt.Errorf("root squashfs: %w", err))
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return fail(fmt.Errorf("%w: root squashfs %s is not a non-empty regular file", ErrInvalidFile, rootSquashfs))
	}
	if err := checkFAT(esp, espSize); err != nil { // before creating any file
		return fail(fmt.Errorf("esp: %w", err))
	}

	t := Table{DiskGUID: GUID(l.Seed, "disk")}
	start := int64(Align)
	for i, p := range []struct {
		label, typ string
		size       int64
	}{
		{bootmedia.LabelESP, bootmedia.TypeESP, espSize},
		{bootmedia.LabelRoot, bootmedia.TypeRoot, alignUp(fi.Size(), Align)},
		{bootmedia.LabelVar, bootmedia.TypeVar, varSize},
	} {
		t.Partitions = append(t.Partitions, Partition{
			Number: i + 1, Label: p.label, Type: p.typ, GUID: GUID(l.Seed, p.label), Start: start, Size: p.size,
		})
		start += p.size
	}
	t.Size = start + Align
	espPart, rootPart := t.Partitions[0], t.Partitions[1]

	err = writeAtomic(path, t.Size, func(f *os.File) error {
		v := fatVolume{serial: volumeSerial(l.Seed), time: l.timestamp(), hidden: uint32(espPart.Start / sectorSize)}
		if err := writeFAT(f, espPart.Start, espPart.Size, esp, v); err != nil {
			return fmt.Errorf("esp: %w", err)
		}
		if err := copyFile(f, rootPart.Start, rootSquashfs, fi.Size()); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		return writeGPT(f, t)
	})
	if err != nil {
		return Table{}, err
	}
	return t, nil
}

// partSize rounds a requested partition size up to the alignment; zero means def.
func partSize(name string, size, def int64) (int64, error) {
	switch {
	case size < 0:
		return 0, fmt.Errorf("%w: %s size %d is negative", ErrInvalidSize, name, size)
	case size == 0:
		size = def
	}
	return alignUp(size, Align), nil
}

// writeGPT writes the protective MBR and both GPT copies of t with go-diskfs.
func writeGPT(f *os.File, t Table) error {
	gt := &gpt.Table{
		LogicalSectorSize:  sectorSize,
		PhysicalSectorSize: sectorSize,
		ProtectiveMBR:      true,
		GUID:               t.DiskGUID,
	}
	for _, p := range t.Partitions {
		gt.Partitions = append(gt.Partitions, &gpt.Partition{
			Index: p.Number,
			Start: uint64(p.Start / sectorSize),
			Size:  uint64(p.Size),
			Type:  gpt.Type(p.Type),
			Name:  p.Label,
			GUID:  p.GUID,
		})
	}
	if err := gt.Write(f, t.Size); err != nil {
		return fmt.Errorf("write GPT: %w", err)
	}
	return nil
}

// ReadPartitions reads the GPT of the disk image at path.
func ReadPartitions(path string) (Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return Table{}, fmt.Errorf("read partitions: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Table{}, fmt.Errorf("read partitions: %w", err)
	}
	gt, err := gpt.Read(f, sectorSize, sectorSize)
	if err != nil {
		return Table{}, fmt.Errorf("read partitions of %s: %w", path, err)
	}
	t := Table{DiskGUID: strings.ToUpper(gt.GUID), Size: fi.Size()}
	for _, p := range gt.Partitions {
		t.Partitions = append(t.Partitions, Partition{
			Number: p.Index,
			Label:  p.Name,
			Type:   strings.ToUpper(string(p.Type)),
			GUID:   strings.ToUpper(p.GUID),
			Start:  int64(p.Start) * sectorSize,
			Size:   int64(p.End-p.Start+1) * sectorSize,
		})
	}
	slices.SortFunc(t.Partitions, func(a, b Partition) int { return a.Number - b.Number })
	return t, nil
}
