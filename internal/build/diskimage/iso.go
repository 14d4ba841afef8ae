package diskimage

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// ISO 9660 names of the El Torito boot catalog and the FAT image it points at.
const (
	BootCatalogName = "BOOT.CAT"
	BootImageName   = "EFIBOOT.IMG"
)

const (
	isoSector     = 2048
	isoCatalogLBA = 19 // after the primary, boot record and terminator descriptors at 16–18
	isoPadSectors = 150
	isoMaxDepth   = 8
)

// WriteISO writes an ISO 9660 image to path that boots on UEFI from a FAT32 El Torito image
// holding esp, with the extra files in its directory tree (names in upper case: ISO 9660 level 2,
// without Rock Ridge or Joliet; Linux shows them in lower case). Layout.VARSize is not used.
func WriteISO(path string, esp []File, extra []File, l Layout) error {
	fail := func(err error) error { return fmt.Errorf("write iso %s: %w", path, err) }
	fatSize, err := isoFATSize(esp, l.ESPSize)
	if err != nil {
		return fail(fmt.Errorf("efi boot image: %w", err))
	}
	root, err := buildTree(extra)
	if err != nil {
		return fail(err)
	}
	catalog := &node{name: BootCatalogName, size: isoSector, parent: root}
	bootImage := &node{name: BootImageName, size: fatSize, parent: root}
	for _, n := range []*node{catalog, bootImage} {
		if root.child(n.name) != nil {
			return fail(fmt.Errorf("%w: %s: reserved for El Torito", ErrInvalidFile, n.name))
		}
		root.children = append(root.children, n)
	}
	dirs, err := isoPlan(root)
	if err != nil {
		return fail(err)
	}

	// Sectors: descriptors, catalog, path tables, directories, boot image, files, padding.
	ptSize := pathTableSize(dirs)
	ptSectors := uint32(alignUp(ptSize, isoSector) / isoSector)
	catalog.first = isoCatalogLBA
	ptL, ptM := uint32(isoCatalogLBA+1), isoCatalogLBA+1+ptSectors
	next := ptM + ptSectors
	for _, d := range dirs {
		d.first, next = next, next+uint32(d.dirSize/isoSector)
	}
	var place func(d *node)
	place = func(d *node) {
		for _, c := range d.children {
			switch {
			case c.dir:
				place(c)
			case c == catalog || c == bootImage:
			case c.size == 0:
				c.first = 0
			default:
				c.first, next = next, next+uint32(alignUp(c.size, isoSector)/isoSector)
			}
		}
	}
	bootImage.first, next = next, next+uint32(fatSize/isoSector)
	place(root)
	total := next + isoPadSectors
	t := l.timestamp()

	return writeAtomic(path, int64(total)*isoSector, func(f *os.File) error {
		v := fatVolume{serial: volumeSerial(l.Seed), time: t}
		if err := writeFAT(f, int64(bootImage.first)*isoSector, fatSize, esp, v); err != nil {
			return fmt.Errorf("efi boot image: %w", err)
		}
		type block struct {
			lba uint32
			b   []byte
		}
		meta := []block{
			{16, primaryDescriptor(root, total, ptSize, ptL, ptM, t)},
			{17, bootRecordDescriptor()},
			{18, terminatorDescriptor()},
			{isoCatalogLBA, bootCatalog(bootImage)},
			{ptL, pathTable(dirs, binary.LittleEndian)},
			{ptM, pathTable(dirs, binary.BigEndian)},
		}
		for _, d := range dirs {
			meta = append(meta, block{d.first, isoDirBytes(d, t)})
		}
		for _, m := range meta {
			if _, err := f.WriteAt(m.b, int64(m.lba)*isoSector); err != nil {
				return err
			}
		}
		var copyFiles func(d *node) error
		copyFiles = func(d *node) error {
			for _, c := range d.children {
				var err error
				switch {
				case c.dir:
					err = copyFiles(c)
				case c != catalog && c != bootImage && c.size > 0:
					err = c.copyTo(f, int64(c.first)*isoSector)
				}
				if err != nil {
					return err
				}
			}
			return nil
		}
		return copyFiles(root)
	})
}

// isoFATSize is the size of the El Torito FAT image: requested, or the smallest that fits.
func isoFATSize(esp []File, requested int64) (int64, error) {
	if requested == 0 {
		return fatFitSize(esp)
	}
	size, err := partSize("ESP", requested, 0)
	if err != nil {
		return 0, err
	}
	return size, checkFAT(esp, size)
}

// isoPlan gives every node its ISO 9660 identifier, sorts directories the way ISO
// 9660 wants, sizes them, and returns the directories breadth first: path table order.
func isoPlan(root *node) ([]*node, error) {
	dirs := []*node{root}
	for i := 0; i < len(dirs); i++ {
		d := dirs[i]
		for _, c := range d.children {
			id, err := isoIdentifier(c)
			if err != nil {
				return nil, err
			}
			c.isoID = id
		}
		slices.SortFunc(d.children, func(a, b *node) int { return strings.Compare(isoSortKey(a.isoID), isoSortKey(b.isoID)) })
		pos := 2 * isoRecordLen(1) // "." and ".."
		for _, c := range d.children {
			if n := isoRecordLen(len(c.isoID)); pos%isoSector+n > isoSector {
				pos = int(alignUp(int64(pos), isoSector)) + n
			} else {
				pos += n
			}
			if c.dir {
				dirs = append(dirs, c)
			}
		}
		d.dirSize = alignUp(int64(pos), isoSector)
	}
	return dirs, nil
}

// isoIdentifier is n's ISO 9660 level 2 identifier: upper case d-characters, "NAME.EXT;1" for
// files (the dot is required) and "NAME" for directories.
func isoIdentifier(n *node) (string, error) {
	depth := 0
	for p := n; p.parent != nil; p = p.parent {
		depth++
	}
	name := strings.ToUpper(n.name)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s: ISO 9660 %s", ErrInvalidFile, n.path(), why)
	}
	switch {
	case n.dir && depth >= isoMaxDepth, !n.dir && depth > isoMaxDepth:
		return bad("allows 8 directory levels")
	case strings.ContainsFunc(name, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.') }):
		return bad("names have only letters, digits, '_' and '.'")
	case n.dir && strings.Contains(name, "."):
		return bad("directory names have no '.'")
	case strings.Count(name, ".") > 1:
		return bad("file names have at most one '.'")
	case len(name) > 30:
		return bad("level 2 names have at most 30 characters")
	case n.dir:
		return name, nil
	case n.size > 0xffffffff:
		return bad("files are smaller than 4 GiB (no multi-extent files)")
	case !strings.Contains(name, "."):
		name += "."
	}
	return name + ";1", nil
}

// isoSortKey orders identifiers by name, then extension, as ISO 9660 9.3 wants (a shorter part
// sorts first, as if padded with spaces).
func isoSortKey(id string) string {
	base, ext, _ := strings.Cut(strings.TrimSuffix(id, ";1"), ".")
	return fmt.Sprintf("%-31s\x00%s", base, ext)
}

func isoRecordLen(idLen int) int { return 33 + idLen + (idLen+1)%2 }

// isoDirRecord is a directory record for a file or directory at lba of size bytes.
func isoDirRecord(id []byte, lba uint32, size int64, dir bool, t time.Time) []byte {
	b := make([]byte, isoRecordLen(len(id)))
	b[0] = byte(len(b))
	both32(b[2:], lba)
	both32(b[10:], uint32(size))
	copy(b[18:25], []byte{byte(t.Year() - 1900), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()), 0})
	if dir {
		b[25] = 0x02
	}
	both16(b[28:], 1) // volume sequence number
	b[32] = byte(len(id))
	copy(b[33:], id)
	return b
}

// isoDirBytes is the content of directory d, records never crossing a sector boundary.
func isoDirBytes(d *node, t time.Time) []byte {
	parent := d
	if d.parent != nil {
		parent = d.parent
	}
	b := make([]byte, 0, d.dirSize)
	b = append(b, isoDirRecord([]byte{0}, d.first, d.dirSize, true, t)...)
	b = append(b, isoDirRecord([]byte{1}, parent.first, parent.dirSize, true, t)...)
	for _, c := range d.children {
		size := c.size
		if c.dir {
			size = c.dirSize
		}
		r := isoDirRecord([]byte(c.isoID), c.first, size, c.dir, t)
		if len(b)%isoSector+len(r) > isoSector {
			b = append(b, make([]byte, int(alignUp(int64(len(b)), isoSector))-len(b))...)
		}
		b = append(b, r...)
	}
	return b
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}
