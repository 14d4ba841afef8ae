package diskimage

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// FAT directory entry attributes.
const (
	attrVolumeLabel = 0x08
	attrDirectory   = 0x10
	attrArchive     = 0x20
	attrLongName    = 0x0f
	dirEntrySize    = 32
	lfnCharsPerSlot = 13
)

// assignShortNames gives every child of dir a unique 8.3 name, the way Windows does: names that
// convert without loss keep their basis name, the others get a numeric tail (KERNEL~1.IMG).
// Names that are not exactly their 8.3 form also get long-name entries.
func assignShortNames(dir *node) error {
	taken := map[[11]byte]bool{}
	var lossy []*node
	for _, c := range dir.children {
		base, ext, isLossy := basisName(c.name)
		c.lfn = isLossy || c.name != joinShort(base, ext)
		if isLossy {
			lossy = append(lossy, c)
			continue
		}
		c.short = shortBytes(base, ext)
		taken[c.short] = true
	}
	for _, c := range lossy {
		base, ext, _ := basisName(c.name)
		found := false
		for i := 1; i < 1000000 && !found; i++ {
			tail := "~" + strconv.Itoa(i)
			s := shortBytes(base[:min(len(base), 8-len(tail))]+tail, ext)
			if !taken[s] {
				c.short, found = s, true
				taken[s] = true
			}
		}
		if !found {
			return fmt.Errorf("%w: %s: no free short name", ErrInvalidFile, c.path())
		}
	}
	return nil
}

// basisName is the upper-case 8.3 basis of name, and whether converting it lost anything
// besides case.
func basisName(name string) (base, ext string, lossy bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		switch {
		case r == ' ':
			lossy = true // dropped
		case r == '.' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'()-@^_`{}~", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			lossy = true
		}
	}
	s := b.String()
	if t := strings.TrimLeft(s, "."); t != s {
		s, lossy = t, true
	}
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s, ext = s[:i], s[i+1:]
	}
	if strings.Contains(s, ".") {
		s, lossy = strings.ReplaceAll(s, ".", ""), true
	}
	if s == "" {
		s, lossy = "_", true
	}
	if len(s) > 8 {
		s, lossy = s[:8], true
	}
	if len(ext) > 3 {
		ext, lossy = ext[:3], true
	}
	return s, ext, lossy
}

func joinShort(base, ext string) string {
	if ext == "" {
		return base
	}
	return base + "." + ext
}

func shortBytes(base, ext string) [11]byte {
	var s [11]byte
	copy(s[:], fmt.Sprintf("%-8s%-3s", base, ext))
	return s
}

// lfnChecksum is the checksum of a short name that long-name entries carry.
func lfnChecksum(short [11]byte) byte {
	var sum byte
	for _, c := range short {
		sum = (sum&1)<<7 + sum>>1 + c
	}
	return sum
}

// lfnSlots is the number of long-name entries name needs.
func lfnSlots(name string) int {
	return (len(utf16.Encode([]rune(name))) + lfnCharsPerSlot - 1) / lfnCharsPerSlot
}

// entryCount is the number of 32-byte directory entries c takes in its parent.
func (c *node) entryCount() int {
	if c.lfn {
		return lfnSlots(c.name) + 1
	}
	return 1
}

// lfnEntries returns the long-name entries of c, last part first as they are stored.
func lfnEntries(c *node) []byte {
	u := utf16.Encode([]rune(c.name))
	slots := lfnSlots(c.name)
	sum := lfnChecksum(c.short)
	out := make([]byte, 0, slots*dirEntrySize)
	offsets := [lfnCharsPerSlot]int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30}
	for s := slots; s >= 1; s-- {
		e := make([]byte, dirEntrySize)
		e[0] = byte(s)
		if s == slots {
			e[0] |= 0x40
		}
		e[11], e[13] = attrLongName, sum
		for i, o := range offsets {
			k := (s-1)*lfnCharsPerSlot + i
			var ch uint16
			switch {
			case k < len(u):
				ch = u[k]
			case k == len(u):
				ch = 0
			default:
				ch = 0xffff
			}
			binary.LittleEndian.PutUint16(e[o:], ch)
		}
		out = append(out, e...)
	}
	return out
}

// shortEntry is a 32-byte directory entry.
func shortEntry(name [11]byte, attr byte, cluster uint32, size uint32, t time.Time) []byte {
	e := make([]byte, dirEntrySize)
	copy(e[0:11], name[:])
	e[11] = attr
	d, tm := fatDateTime(t)
	binary.LittleEndian.PutUint16(e[14:], tm) // creation
	binary.LittleEndian.PutUint16(e[16:], d)
	binary.LittleEndian.PutUint16(e[18:], d) // last access
	binary.LittleEndian.PutUint16(e[20:], uint16(cluster>>16))
	binary.LittleEndian.PutUint16(e[22:], tm) // last write
	binary.LittleEndian.PutUint16(e[24:], d)
	binary.LittleEndian.PutUint16(e[26:], uint16(cluster))
	binary.LittleEndian.PutUint32(e[28:], size)
	return e
}

// fatDateTime encodes t (UTC, 1980–2107) as FAT date and time.
func fatDateTime(t time.Time) (date, tm uint16) {
	date = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	tm = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	return date, tm
}
