package diskimage

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

const (
	elToritoPlatformEFI = 0xef
	elToritoBootable    = 0x88
	elToritoMaxCount    = 0xffff // 512-byte sectors a catalog entry can count
)

// descriptorHeader starts a volume descriptor of type typ.
func descriptorHeader(typ byte) []byte {
	b := make([]byte, isoSector)
	b[0] = typ
	copy(b[1:6], "CD001")
	b[6] = 1 // version
	return b
}

// primaryDescriptor is the primary volume descriptor (ECMA-119 8.4).
func primaryDescriptor(root *node, sectors uint32, ptSize int64, ptL, ptM uint32, t time.Time) []byte {
	b := descriptorHeader(1)
	pad := func(off, n int, s string) { copy(b[off:off+n], fmt.Sprintf("%-*s", n, s)) }
	pad(8, 32, "")                        // system identifier
	pad(40, 32, bootmedia.ISOVolumeLabel) // volume identifier
	both32(b[80:], sectors)
	both16(b[120:], 1) // volume set size
	both16(b[124:], 1) // volume sequence number
	both16(b[128:], isoSector)
	both32(b[132:], uint32(ptSize))
	binary.LittleEndian.PutUint32(b[140:], ptL)
	binary.BigEndian.PutUint32(b[148:], ptM)
	copy(b[156:190], isoDirRecord([]byte{0}, root.first, root.dirSize, true, t))
	pad(190, 128, "")     // volume set
	pad(318, 128, "")     // publisher
	pad(446, 128, "KILN") // data preparer
	pad(574, 128, "")     // application
	pad(702, 37, "")      // copyright, abstract and bibliographic files
	pad(739, 37, "")
	pad(776, 37, "")
	stamp := []byte(t.Format("20060102150405") + "00\x00") // hundredths, then the UTC offset
	unset := []byte("0000000000000000\x00")
	copy(b[813:], stamp) // creation
	copy(b[830:], stamp) // modification
	copy(b[847:], unset) // expiration
	copy(b[864:], unset) // effective
	b[881] = 1           // file structure version
	return b
}

// bootRecordDescriptor points El Torito firmware at the boot catalog.
func bootRecordDescriptor() []byte {
	b := descriptorHeader(0)
	copy(b[7:39], "EL TORITO SPECIFICATION")
	binary.LittleEndian.PutUint32(b[71:], isoCatalogLBA)
	return b
}

func terminatorDescriptor() []byte { return descriptorHeader(255) }

// bootCatalog is the El Torito boot catalog: a validation entry for platform EFI and a default
// entry, bootable without emulation, for the FAT image. Its sector count is in 512-byte
// sectors; images too large for it get 0, which UEFI firmware (EDK II) and xorriso read as
// "up to the end of the medium"; the FAT knows its own size.
func bootCatalog(img *node) []byte {
	b := make([]byte, isoSector)
	b[0] = 1 // validation entry
	b[1] = elToritoPlatformEFI
	b[30], b[31] = 0x55, 0xaa
	var sum uint16
	for i := 0; i < 32; i += 2 {
		sum += binary.LittleEndian.Uint16(b[i:])
	}
	binary.LittleEndian.PutUint16(b[28:], -sum)

	e := b[32:64]
	e[0] = elToritoBootable
	e[1] = 0 // no emulation
	count := img.size / 512
	if count > elToritoMaxCount {
		count = 0
	}
	binary.LittleEndian.PutUint16(e[6:], uint16(count))
	binary.LittleEndian.PutUint32(e[8:], img.first)
	return b
}

func pathTableRecordLen(idLen int) int64 { return int64(8 + idLen + idLen%2) }

// pathTableSize is the byte length of one path table of dirs.
func pathTableSize(dirs []*node) int64 {
	size := pathTableRecordLen(1) // the root
	for _, d := range dirs[1:] {
		size += pathTableRecordLen(len(d.isoID))
	}
	return size
}

// pathTable is the path table of dirs (breadth first, root first) in byte order o.
func pathTable(dirs []*node, o binary.ByteOrder) []byte {
	number := map[*node]uint16{}
	var b []byte
	for i, d := range dirs {
		number[d] = uint16(i + 1)
		id, parent := []byte{0}, uint16(1)
		if d.parent != nil {
			id, parent = []byte(d.isoID), number[d.parent]
		}
		r := make([]byte, pathTableRecordLen(len(id)))
		r[0] = byte(len(id))
		o.PutUint32(r[2:], d.first)
		o.PutUint16(r[6:], parent)
		copy(r[8:], id)
		b = append(b, r...)
	}
	return b
}
