package diskimage

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

// fatVolume is what, besides the files, goes into a FAT32.
type fatVolume struct {
	serial uint32
	time   time.Time
	hidden uint32 // sectors before the filesystem on its disk (the partition's start LBA)
}

// writeFAT writes a FAT32 of size bytes holding files at off in dst. It writes only non-zero
// structures: dst must be zero (a hole) there.
func writeFAT(dst *os.File, off, size int64, files []File, v fatVolume) error {
	g, err := newFATGeometry(size)
	if err != nil {
		return err
	}
	root, err := buildTree(files)
	if err != nil {
		return err
	}
	used, err := fatPlan(root, g)
	if err != nil {
		return err
	}
	at := func(b []byte, o int64) error {
		_, err := dst.WriteAt(b, off+o)
		return err
	}
	boot, fsinfo := g.bootSector(v), g.fsInfo(used)
	for _, s := range []struct {
		b []byte
		o int64
	}{{boot, 0}, {fsinfo, sectorSize}, {boot, fatBackupBoot * sectorSize}, {fsinfo, (fatBackupBoot + 1) * sectorSize}} {
		if err := at(s.b, s.o); err != nil {
			return fmt.Errorf("write FAT32 boot sectors: %w", err)
		}
	}
	table := fatTable(root, used, g.clusterBytes())
	for i := range int64(2) {
		if err := at(table, (fatReserved+i*int64(g.fatSectors))*sectorSize); err != nil {
			return fmt.Errorf("write FAT: %w", err)
		}
	}
	var werr error
	root.walk(func(d *node) {
		if werr == nil {
			werr = at(dirBytes(d, v.time), g.clusterOffset(d.first))
		}
	})
	if werr != nil {
		return fmt.Errorf("write FAT32 directories: %w", werr)
	}
	var copyFiles func(n *node) error
	copyFiles = func(n *node) error {
		for _, c := range n.children {
			var err error
			switch {
			case c.dir:
				err = copyFiles(c)
			case c.size > 0:
				err = c.copyTo(dst, off+g.clusterOffset(c.first))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return copyFiles(root)
}

func (g fatGeometry) bootSector(v fatVolume) []byte {
	b := make([]byte, sectorSize)
	copy(b[0:], []byte{0xeb, 0x58, 0x90}) // jmp over the BPB; no boot code
	copy(b[3:11], fatOEMName)
	binary.LittleEndian.PutUint16(b[11:], sectorSize)
	b[13] = byte(g.spc)
	binary.LittleEndian.PutUint16(b[14:], fatReserved)
	b[16] = 2 // FATs
	b[21] = fatMediaFixed
	binary.LittleEndian.PutUint16(b[24:], 32) // sectors per track, heads: only for CHS
	binary.LittleEndian.PutUint16(b[26:], 64)
	binary.LittleEndian.PutUint32(b[28:], v.hidden)
	binary.LittleEndian.PutUint32(b[32:], g.sectors)
	binary.LittleEndian.PutUint32(b[36:], g.fatSectors)
	binary.LittleEndian.PutUint32(b[44:], fatRootCluster)
	binary.LittleEndian.PutUint16(b[48:], 1) // FSInfo sector
	binary.LittleEndian.PutUint16(b[50:], fatBackupBoot)
	b[64] = 0x80 // drive number
	b[66] = 0x29 // extended boot signature: serial, label and type follow
	binary.LittleEndian.PutUint32(b[67:], v.serial)
	copy(b[71:82], fmt.Sprintf("%-11s", bootmedia.ESPVolumeLabel))
	copy(b[82:90], "FAT32   ")
	b[510], b[511] = 0x55, 0xaa
	return b
}

func (g fatGeometry) fsInfo(used int64) []byte {
	b := make([]byte, sectorSize)
	binary.LittleEndian.PutUint32(b[0:], fatFSInfoLead)
	binary.LittleEndian.PutUint32(b[484:], fatFSInfoStruct)
	binary.LittleEndian.PutUint32(b[488:], g.clusters-uint32(used)) // free clusters
	nextFree := uint32(0xffffffff)
	if used < int64(g.clusters) {
		nextFree = fatRootCluster + uint32(used)
	}
	binary.LittleEndian.PutUint32(b[492:], nextFree)
	binary.LittleEndian.PutUint32(b[508:], fatFSInfoTrail)
	return b
}

// fatTable is the used part of the FAT: the two reserved entries and one chain per file or
// directory, each contiguous. The rest of the FAT is zero (free).
func fatTable(root *node, used int64, cb int64) []byte {
	t := make([]byte, 4*(2+int(used)))
	binary.LittleEndian.PutUint32(t[0:], 0x0fffff00|fatMediaFixed)
	binary.LittleEndian.PutUint32(t[4:], fatEndOfChain)
	var chain func(n *node)
	chain = func(n *node) {
		size := n.size
		if n.dir {
			size = n.dirSize
		}
		if count := uint32(alignUp(size, cb) / cb); count > 0 {
			for i := range count {
				next := n.first + i + 1
				if i == count-1 {
					next = fatEndOfChain
				}
				binary.LittleEndian.PutUint32(t[4*(n.first+i):], next)
			}
		}
		for _, c := range n.children {
			chain(c)
		}
	}
	chain(root)
	return t
}

// dirBytes is the content of directory d: ".", ".." (or the volume label in the root), then a
// long-name run and a short entry per child.
func dirBytes(d *node, t time.Time) []byte {
	b := make([]byte, 0, d.dirSize)
	if d.parent == nil {
		b = append(b, shortEntry(shortBytes(bootmedia.ESPVolumeLabel[:8], bootmedia.ESPVolumeLabel[8:]), attrVolumeLabel, 0, 0, t)...)
	} else {
		parent := d.parent.first
		if d.parent.parent == nil {
			parent = 0 // ".." of a top-level directory points at cluster 0, by convention
		}
		b = append(b, shortEntry(shortBytes(".", ""), attrDirectory, d.first, 0, t)...)
		b = append(b, shortEntry(shortBytes("..", ""), attrDirectory, parent, 0, t)...)
	}
	for _, c := range d.children {
		if c.lfn {
			b = append(b, lfnEntries(c)...)
		}
		attr, size := byte(attrArchive), uint32(c.size)
		if c.dir {
			attr, size = attrDirectory, 0
		}
		b = append(b, shortEntry(c.short, attr, c.first, size, t)...)
	}
	return b
}
