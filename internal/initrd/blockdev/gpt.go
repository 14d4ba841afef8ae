package blockdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"golang.org/x/sys/unix"
)

var (
	// ErrNoPartition marks a disk without the partition kiln-init looks for.
	ErrNoPartition = errors.New("no such partition")
	// ErrDiskShrank marks a disk smaller than its partition table says.
	ErrDiskShrank = errors.New("disk is smaller than its partition table")
)

// partAlign is the alignment of the end of a grown partition, as of every kiln partition.
const partAlign = 1 << 20

// Growth describes what GrowGPT changed.
type Growth struct {
	Number           int   // partition number
	Start            int64 // partition start, bytes
	OldSize, NewSize int64 // partition size before and after, bytes
	MovedBackup      bool  // the backup GPT moved to the disk's new end
}

// Grew reports whether the partition became larger.
func (g Growth) Grew() bool { return g.NewSize > g.OldSize }

// GrowGPT fits the GPT of the disk f (size bytes, sectorSize-byte sectors) to the disk: when the
// disk was enlarged, it moves the backup GPT to the new end and extends the partition named
// label, if it is the last one, up to the last MiB boundary before the backup partition array.
// A disk whose GPT already fits is left alone. The previous backup header is zeroed, so that no
// stale "EFI PART" sector lingers inside the grown partition.
func GrowGPT(f *os.File, size int64, sectorSize int, label string) (Growth, error) {
	t, err := gpt.Read(f, sectorSize, sectorSize)
	if err != nil {
		return Growth{}, fmt.Errorf("read GPT: %w", err)
	}
	ss := uint64(sectorSize)
	var part, last *gpt.Partition
	for _, p := range t.Partitions {
		if p.Name == label {
			part = p
		}
		if last == nil || p.End > last.End {
			last = p
		}
	}
	if part == nil {
		return Growth{}, fmt.Errorf("%w: no partition named %s in the GPT", ErrNoPartition, label)
	}
	g := Growth{Number: part.Index, Start: int64(part.Start * ss), OldSize: int64((part.End - part.Start + 1) * ss)}
	g.NewSize = g.OldSize

	diskLast := uint64(size)/ss - 1                    // the disk's last LBA
	oldBackup := t.TotalSize()/ss - 1                  // where the backup header is now
	arraySectors := oldBackup - t.LastDataSector() - 1 // the backup partition array before it
	switch {
	case oldBackup > diskLast:
		return Growth{}, fmt.Errorf("%w: its backup header is at sector %d, the disk ends at sector %d", ErrDiskShrank, oldBackup, diskLast)
	case oldBackup == diskLast && part != last:
		return g, nil
	}

	newEnd := part.End
	if part == last {
		// The partition may reach the sector before the backup array; it ends where the last
		// MiB before that ends.
		limit := (diskLast - arraySectors) * ss // byte offset of the backup array
		if end := limit/partAlign*partAlign/ss - 1; end > part.End {
			newEnd = end
		}
	}
	if oldBackup == diskLast && newEnd == part.End {
		return g, nil
	}

	t.Resize(uint64(size) / ss * ss)
	part.End = newEnd
	part.Size = (part.End - part.Start + 1) * ss
	if err := t.Write(f, size); err != nil {
		return Growth{}, fmt.Errorf("write GPT: %w", err)
	}
	if t.ProtectiveMBR && diskLast > 0xFFFFFFFF {
		// go-diskfs truncates the protective MBR's size to 32 bits; the UEFI spec wants
		// 0xFFFFFFFF for a disk larger than that.
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], 0xFFFFFFFF)
		if _, err := f.WriteAt(b[:], 446+12); err != nil {
			return Growth{}, fmt.Errorf("write protective MBR: %w", err)
		}
	}
	if oldBackup < diskLast {
		if _, err := f.WriteAt(make([]byte, sectorSize), int64(oldBackup*ss)); err != nil {
			return Growth{}, fmt.Errorf("zero the old backup GPT header: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return Growth{}, fmt.Errorf("sync GPT: %w", err)
	}
	g.NewSize = int64(part.Size)
	g.MovedBackup = oldBackup != diskLast
	return g, nil
}

// ResizePartition tells the kernel that partition number of the disk open as f now has
// size bytes (BLKPG_RESIZE_PARTITION, which works while other partitions of the disk are
// mounted, unlike BLKRRPART).
func ResizePartition(f *os.File, number int, start, size int64) error {
	p := unix.BlkpgPartition{Start: start, Length: size, Pno: int32(number)}
	arg := unix.BlkpgIoctlArg{
		Op:      unix.BLKPG_RESIZE_PARTITION,
		Datalen: int32(unsafe.Sizeof(p)),
		Data:    (*byte)(unsafe.Pointer(&p)),
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKPG, uintptr(unsafe.Pointer(&arg)))
	runtime.KeepAlive(&p)
	if errno != 0 {
		return fmt.Errorf("resize partition %d in the kernel (BLKPG): %w", number, errno)
	}
	return nil
}
