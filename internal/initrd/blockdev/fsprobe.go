package blockdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Filesystem types Probe recognises. Only ext4, iso9660 and vfat are ever mounted; the others
// are recognised so that kiln-init never formats over them.
const (
	FSExt4     = "ext4" // also ext2 and ext3, which share the superblock
	FSISO9660  = "iso9660"
	FSVFAT     = "vfat"
	FSXFS      = "xfs"
	FSBtrfs    = "btrfs"
	FSLUKS     = "crypto_LUKS"
	FSSwap     = "swap"
	FSSquashfs = "squashfs"
)

// FSInfo is what Probe found on a device.
type FSInfo struct {
	Type  string // "" when no known signature was found
	Label string
	Size  int64 // the filesystem's size in bytes (ext4 only)
}

// probeLen is how much of a device Probe reads: up to btrfs's superblock at 64 KiB.
const probeLen = 0x10000 + 0x1000

// ProbeFile probes the device or image file at path.
func ProbeFile(path string) (FSInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return FSInfo{}, err
	}
	defer f.Close()
	return Probe(f)
}

// Probe identifies the filesystem at the start of r by its signatures, without blkid. A device
// shorter than the probed area reads as zeros beyond its end.
func Probe(r io.ReaderAt) (FSInfo, error) {
	b := make([]byte, probeLen)
	n, err := r.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return FSInfo{}, fmt.Errorf("read superblocks: %w", err)
	}
	clear(b[n:])
	le16 := func(off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
	le32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

	switch {
	case le16(1024+0x38) == 0xEF53: // ext2/3/4: superblock at 1024, s_magic at 0x38
		sb := 1024
		blockSize := int64(1024) << le32(sb+0x18)
		blocks := int64(le32(sb + 0x04))
		if le32(sb+0x60)&0x80 != 0 { // INCOMPAT_64BIT: s_blocks_count_hi
			blocks |= int64(le32(sb+0x150)) << 32
		}
		return FSInfo{Type: FSExt4, Label: cString(b[sb+0x78 : sb+0x88]), Size: blocks * blockSize}, nil
	case string(b[0x8000:0x8006]) == "\x01CD001": // ISO 9660 primary volume descriptor, sector 16
		return FSInfo{Type: FSISO9660, Label: strings.TrimRight(string(b[0x8000+40:0x8000+72]), " \x00")}, nil
	case string(b[0:4]) == "hsqs":
		return FSInfo{Type: FSSquashfs}, nil
	case string(b[0:4]) == "XFSB":
		return FSInfo{Type: FSXFS}, nil
	case string(b[0:6]) == "LUKS\xba\xbe":
		return FSInfo{Type: FSLUKS}, nil
	case string(b[0x10040:0x10048]) == "_BHRfS_M":
		return FSInfo{Type: FSBtrfs}, nil
	case string(b[4086:4096]) == "SWAPSPACE2" || string(b[4086:4096]) == "SWAP-SPACE":
		return FSInfo{Type: FSSwap}, nil
	case b[510] == 0x55 && b[511] == 0xAA && string(b[0x52:0x57]) == "FAT32":
		return FSInfo{Type: FSVFAT, Label: fatLabel(b[0x47 : 0x47+11])}, nil
	case b[510] == 0x55 && b[511] == 0xAA && string(b[0x36:0x39]) == "FAT":
		return FSInfo{Type: FSVFAT, Label: fatLabel(b[0x2B : 0x2B+11])}, nil
	}
	return FSInfo{}, nil
}

// fatLabel is the volume label of a FAT boot sector; "NO NAME" means none.
func fatLabel(b []byte) string {
	l := strings.TrimRight(string(b), " \x00")
	if l == "NO NAME" {
		return ""
	}
	return l
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
