package diskimage

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

var (
	// ErrInvalidFile marks a bad input file: a bad path, a duplicate, or Source and Data both set.
	ErrInvalidFile = errors.New("invalid file")
	// ErrInvalidSize marks a Layout size the image cannot have (a FAT32 outside its limits, a
	// negative size).
	ErrInvalidSize = errors.New("invalid size")
	// ErrESPTooSmall marks ESP files that do not fit into Layout.ESPSize.
	ErrESPTooSmall = errors.New("esp too small for its files")
)

// Sizes.
const (
	MiB = 1 << 20
	// Align is the alignment of every partition's start and size.
	Align = MiB
	// DefaultESPSize is the ESP size of a raw image when Layout.ESPSize is zero.
	DefaultESPSize = 256 * MiB
	// DefaultVARSize is the VAR size when Layout.VARSize is zero. It costs no space in the image.
	DefaultVARSize = 1024 * MiB
)

// File is one file of a FAT or ISO filesystem.
type File struct {
	// Path is the path in the filesystem, relative, with slashes: "EFI/BOOT/BOOTX64.EFI".
	// FAT keeps its case; ISO 9660 stores it in upper case (Linux shows it in lower case).
	Path string
	// Source is the host file to copy; Data is the content itself. At most one of them is set;
	// neither means an empty file.
	Source string
	Data   []byte
}

// Layout holds what, besides the files, decides an image's bytes.
type Layout struct {
	// ESPSize is the size of the ESP (WriteRaw; zero means DefaultESPSize) or of the El Torito
	// FAT image (WriteISO; zero means the smallest that fits). It is rounded up to a MiB and
	// must be at least MinESPSize, the smallest FAT32.
	ESPSize int64
	// VARSize is the size of the empty VAR partition, rounded up to a MiB; zero means
	// DefaultVARSize. WriteISO ignores it.
	VARSize int64
	// Seed determines the disk and partition GUIDs and the FAT volume serial. Images of
	// different nodes or builds that may meet on one machine should get different seeds.
	Seed string
	// Time stamps every file, directory and volume descriptor (usually SOURCE_DATE_EPOCH).
	// FAT stores it in UTC to 2 seconds, between 1980 and 2107, and clamps it to that range;
	// zero means 1980-01-01 00:00:00 UTC.
	Time time.Time
}

// timestamp is l.Time in UTC, clamped to what FAT can store.
func (l Layout) timestamp() time.Time {
	lo := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	hi := time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	t := l.Time.UTC().Truncate(time.Second)
	switch {
	case l.Time.IsZero() || t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}

// Partition is one GPT partition entry.
type Partition struct {
	Number int    // 1-based index in the partition array
	Label  string // GPT partition name
	Type   string // type GUID, upper case
	GUID   string // unique partition GUID, upper case
	Start  int64  // offset in bytes
	Size   int64  // length in bytes
}

// Table is a disk's GPT.
type Table struct {
	DiskGUID   string // upper case
	Size       int64  // the image's size in bytes
	Partitions []Partition
}

// ByLabel returns the partition labelled label.
func (t Table) ByLabel(label string) (Partition, bool) {
	for _, p := range t.Partitions {
		if p.Label == label {
			return p, true
		}
	}
	return Partition{}, false
}

// GUID derives a GUID from seed and name: the first 16 bytes of SHA-256(seed+"/"+name) with the
// RFC 4122 version 4 and variant bits set, in upper case.
func GUID(seed, name string) string {
	sum := sha256.Sum256([]byte(seed + "/" + name))
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// volumeSerial is the FAT volume serial for seed.
func volumeSerial(seed string) uint32 {
	sum := sha256.Sum256([]byte(seed + "/fat-volume-serial"))
	return uint32(sum[0]) | uint32(sum[1])<<8 | uint32(sum[2])<<16 | uint32(sum[3])<<24
}

func alignUp(n, to int64) int64 { return (n + to - 1) / to * to }

// writeAtomic creates a sparse file of size bytes, lets write fill it, and puts it at path
// atomically.
func writeAtomic(path string, size int64, write func(f *os.File) error) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error {
		if err := f.Truncate(size); err != nil {
			return err
		}
		return write(f)
	})
}
