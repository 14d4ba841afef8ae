package initramfs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path"
	"slices"
)

// gzipLevel is the compression level of the archive; compress/gzip is deterministic at every
// level for a given Go release.
const gzipLevel = gzip.DefaultCompression

// newcMagic starts every header of a cpio "newc" archive (no checksums).
const newcMagic = "070701"

// trailerName names the entry that ends a cpio archive.
const trailerName = "TRAILER!!!"

// blockSize is the size the uncompressed archive is padded to, as cpio(1) does.
const blockSize = 512

// WriteTo writes the gzip-compressed archive to w and returns the number of bytes written.
// It checks that every parent of an entry is a directory (ErrConflict otherwise) and that host
// files still have the content they had when added (ErrSourceChanged otherwise).
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	mtime, err := b.mtime()
	if err != nil {
		return 0, fmt.Errorf("write initramfs: %w", err)
	}
	entries, err := b.archiveEntries()
	if err != nil {
		return 0, fmt.Errorf("write initramfs: %w", err)
	}
	zw, err := gzip.NewWriterLevel(cw, gzipLevel)
	if err != nil {
		return 0, fmt.Errorf("write initramfs: %w", err)
	}
	// The zero gzip.Header: no name, no comment, mtime 0.
	nw := &newcWriter{w: zw, mtime: mtime}
	for _, p := range slices.Sorted(maps.Keys(entries)) {
		if err := nw.writeEntry(name(p), entries[p]); err != nil {
			return cw.n, fmt.Errorf("write initramfs: %s: %w", p, err)
		}
	}
	if err := nw.close(); err != nil {
		return cw.n, fmt.Errorf("write initramfs: %w", err)
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("write initramfs: %w", err)
	}
	return cw.n, nil
}

// mtime returns ModTime as the 32-bit seconds of a newc header.
func (b *Builder) mtime() (uint32, error) {
	if b.ModTime.IsZero() {
		return 0, nil
	}
	s := b.ModTime.Unix()
	if s < 0 || s > math.MaxUint32 {
		return 0, fmt.Errorf("mtime %s does not fit a cpio header", b.ModTime)
	}
	return uint32(s), nil
}

// archiveEntries returns every entry of the archive: the added ones, the generated module
// files, the root and the missing parent directories.
func (b *Builder) archiveEntries() (map[string]*entry, error) {
	all := maps.Clone(b.entries)
	if b.modules != nil {
		for p, e := range b.modules.files() {
			if err := checkSame(p, all[p], e); err != nil {
				return nil, err
			}
			all[p] = e
		}
	}
	for _, p := range slices.Sorted(maps.Keys(all)) {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			parent, ok := all[d]
			if !ok {
				all[d] = dirEntry(0o755)
				continue
			}
			if parent.mode&typeMask != typeDir {
				return nil, fmt.Errorf("%w: parent %s of %s is a %s", ErrConflict, d, p, parent)
			}
			break // d and its parents were or will be checked as an entry of their own
		}
	}
	all["/"] = dirEntry(0o755)
	return all, nil
}

// newcWriter writes cpio "newc" entries, numbering inodes from 1.
type newcWriter struct {
	w     io.Writer
	n     int64 // bytes written
	ino   uint32
	mtime uint32
}

func (nw *newcWriter) write(p []byte) error {
	n, err := nw.w.Write(p)
	nw.n += int64(n)
	return err
}

// pad writes zeros up to the next multiple of align.
func (nw *newcWriter) pad(align int64) error {
	if r := nw.n % align; r != 0 {
		return nw.write(make([]byte, align-r))
	}
	return nil
}

// header writes a header and the name, padded to 4 bytes: 13 fields of 8 hex digits after the
// magic: ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
// namesize (with the NUL) and check.
func (nw *newcWriter) header(ino uint32, name string, e *entry) error {
	if e.size > math.MaxUint32 {
		return fmt.Errorf("%d bytes do not fit a cpio entry", e.size)
	}
	nlink := 1
	if e.mode&typeMask == typeDir {
		nlink = 2
	}
	h := fmt.Sprintf("%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\x00", newcMagic,
		ino, e.mode, 0, 0, nlink, nw.mtime, e.size, 0, 0, e.major, e.minor, len(name)+1, 0, name)
	if err := nw.write([]byte(h)); err != nil {
		return err
	}
	return nw.pad(4)
}

func (nw *newcWriter) writeEntry(name string, e *entry) error {
	nw.ino++
	if err := nw.header(nw.ino, name, e); err != nil {
		return err
	}
	switch {
	case e.src != "":
		if err := nw.copyFile(e); err != nil {
			return err
		}
	case e.size > 0:
		if err := nw.write(e.data); err != nil {
			return err
		}
	}
	return nw.pad(4)
}

// copyFile writes the content of a host file, checking it against the size and digest it had
// when added.
func (nw *newcWriter) copyFile(e *entry) error {
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != e.size {
		return fmt.Errorf("%w: %s has %d bytes, had %d", ErrSourceChanged, e.src, fi.Size(), e.size)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(writerFunc(nw.write), h), io.LimitReader(f, e.size))
	if err != nil {
		return fmt.Errorf("copy %s: %w", e.src, err)
	}
	if n != e.size || !bytes.Equal(h.Sum(nil), e.sum[:]) {
		return fmt.Errorf("%w: %s", ErrSourceChanged, e.src)
	}
	return nil
}

// close writes the trailer and pads the archive to blockSize.
func (nw *newcWriter) close() error {
	if err := nw.header(0, trailerName, &entry{}); err != nil {
		return err
	}
	return nw.pad(blockSize)
}

// writerFunc turns a function writing all of p or failing into an io.Writer.
type writerFunc func(p []byte) error

func (f writerFunc) Write(p []byte) (int, error) {
	if err := f(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (cw *countWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}
