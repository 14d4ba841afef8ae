package diskimage

import (
	"errors"
	"fmt"
)

const (
	sectorSize      = 512
	fatReserved     = 32 // boot sector, FSInfo, backups at 6 and 7, as mkfs.fat
	fatBackupBoot   = 6
	fatMinClusters  = 65525 // fewer clusters make a FAT16 by definition
	fatMaxClusters  = 0x0ffffff5 - 2
	fatEndOfChain   = 0x0fffffff
	fatMediaFixed   = 0xf8
	fatRootCluster  = 2
	fatOEMName      = "MSWIN4.1"
	fatFSInfoLead   = 0x41615252
	fatFSInfoStruct = 0x61417272
	fatFSInfoTrail  = 0xaa550000
)

// MinESPSize is the smallest FAT32 (65525 clusters of 512 bytes plus the FATs), in whole MiB.
const MinESPSize = 33 * MiB

// fatGeometry is the layout of a FAT32 of a given size, with mkfs.fat's cluster sizes.
type fatGeometry struct {
	sectors    uint32 // total
	spc        uint32 // sectors per cluster
	fatSectors uint32 // per FAT
	clusters   uint32 // data clusters, numbered from 2
}

func newFATGeometry(size int64) (fatGeometry, error) {
	if size%sectorSize != 0 || size < MinESPSize || size/sectorSize > 0xffffffff {
		return fatGeometry{}, fmt.Errorf("%w: FAT32 of %d bytes: need whole sectors, at least %d MiB, below 2 TiB", ErrInvalidSize, size, MinESPSize/MiB)
	}
	g := fatGeometry{sectors: uint32(size / sectorSize)}
	switch {
	case size <= 260*MiB:
		g.spc = 1
	case size <= 8<<30:
		g.spc = 8
	case size <= 16<<30:
		g.spc = 16
	case size <= 32<<30:
		g.spc = 32
	default:
		g.spc = 64
	}
	// The smallest FAT that has an entry for each cluster left beside it (and the two reserved
	// entries): (avail-2f)/spc + 2 <= f*entriesPerSector.
	avail, spc := uint64(g.sectors-fatReserved), uint64(g.spc)
	const entriesPerSector = sectorSize / 4
	fat := (avail + 2*spc + entriesPerSector*spc + 1) / (entriesPerSector*spc + 2)
	g.fatSectors, g.clusters = uint32(fat), uint32((avail-2*fat)/spc)
	if g.clusters < fatMinClusters || g.clusters > fatMaxClusters {
		return fatGeometry{}, fmt.Errorf("%w: FAT32 of %d bytes would have %d clusters", ErrInvalidSize, size, g.clusters)
	}
	return g, nil
}

func (g fatGeometry) clusterBytes() int64 { return int64(g.spc) * sectorSize }

// clusterOffset is the byte offset of cluster c from the start of the filesystem.
func (g fatGeometry) clusterOffset(c uint32) int64 {
	return (int64(fatReserved) + 2*int64(g.fatSectors) + int64(c-2)*int64(g.spc)) * sectorSize
}

// fatPlan assigns short names, directory sizes and clusters to the tree and returns the number
// of clusters used, also along with ErrESPTooSmall.
func fatPlan(root *node, g fatGeometry) (int64, error) {
	cb := g.clusterBytes()
	var err error
	root.walk(func(d *node) {
		if err != nil {
			return
		}
		err = assignShortNames(d)
		entries := 2 // "." and "..", or the volume label in the root
		if d.parent == nil {
			entries = 1
		}
		for _, c := range d.children {
			entries += c.entryCount()
			if c.size > 0xffffffff {
				err = fmt.Errorf("%w: %s: larger than FAT32's 4 GiB limit", ErrInvalidFile, c.path())
			}
		}
		d.dirSize = max(alignUp(int64(entries)*dirEntrySize, cb), cb)
	})
	if err != nil {
		return 0, err
	}
	next := int64(fatRootCluster)
	var assign func(n *node)
	assign = func(n *node) {
		size := n.size
		if n.dir {
			size = n.dirSize
		}
		if size > 0 {
			n.first = uint32(next)
			next += alignUp(size, cb) / cb
		}
		for _, c := range n.children {
			assign(c)
		}
	}
	assign(root)
	used := next - fatRootCluster
	if used > int64(g.clusters) {
		return used, fmt.Errorf("%w: the files need %d clusters of %d bytes, a FAT32 of %d MiB has %d",
			ErrESPTooSmall, used, cb, int64(g.sectors)*sectorSize/MiB, g.clusters)
	}
	return used, nil
}

// fatFitSize is the smallest FAT32 size, in whole MiB, that holds files.
func fatFitSize(files []File) (int64, error) {
	root, err := buildTree(files)
	if err != nil {
		return 0, err
	}
	size := int64(MinESPSize)
	for {
		g, err := newFATGeometry(size)
		if err != nil {
			return 0, err
		}
		used, err := fatPlan(root, g)
		switch {
		case err == nil:
			return size, nil
		case !errors.Is(err, ErrESPTooSmall):
			return 0, err
		}
		size += max(MiB, alignUp((used-int64(g.clusters))*g.clusterBytes(), MiB))
	}
}

// checkFAT reports whether files fit into a FAT32 of size bytes.
func checkFAT(files []File, size int64) error {
	g, err := newFATGeometry(size)
	if err != nil {
		return err
	}
	root, err := buildTree(files)
	if err != nil {
		return err
	}
	_, err = fatPlan(root, g)
	return err
}
