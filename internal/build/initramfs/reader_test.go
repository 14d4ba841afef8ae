package initramfs

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// cpioEntry is one parsed newc header with its name and data.
type cpioEntry struct {
	Ino, Mode, UID, GID, Nlink, Mtime uint32
	DevMajor, DevMinor, Major, Minor  uint32 // Major, Minor: rdev
	Check                             uint32
	Name                              string
	Data                              string
}

// build writes b and returns the compressed archive.
func build(t *testing.T, b *Builder) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := b.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// decompress checks that the gzip header is empty and returns the cpio stream.
func decompress(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if h := zr.Header; h.Name != "" || h.Comment != "" || h.Extra != nil || !h.ModTime.Equal(time.Time{}) {
		t.Errorf("gzip header not empty: %+v", h)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// readArchive parses a compressed archive strictly: magic, 8-digit hex fields, NUL-terminated
// names, zero padding to 4 bytes, the trailer last and zeros to a 512-byte boundary after it.
// The trailer is not returned.
func readArchive(t *testing.T, gz []byte) []cpioEntry {
	t.Helper()
	raw := decompress(t, gz)
	if len(raw)%512 != 0 {
		t.Errorf("archive is %d bytes, not a multiple of 512", len(raw))
	}
	var entries []cpioEntry
	off := 0
	zeros := func(from, to int) {
		if !bytes.Equal(raw[from:to], make([]byte, to-from)) {
			t.Fatalf("non-zero padding at %d..%d", from, to)
		}
	}
	for {
		if off+110 > len(raw) || string(raw[off:off+6]) != "070701" {
			t.Fatalf("no newc header at offset %d", off)
		}
		var f [13]uint32
		for i := range f {
			s := string(raw[off+6+8*i : off+14+8*i])
			v, err := strconv.ParseUint(s, 16, 32)
			if err != nil {
				t.Fatalf("header at %d: field %d %q: %v", off, i, s, err)
			}
			f[i] = uint32(v)
		}
		e := cpioEntry{Ino: f[0], Mode: f[1], UID: f[2], GID: f[3], Nlink: f[4], Mtime: f[5],
			DevMajor: f[7], DevMinor: f[8], Major: f[9], Minor: f[10], Check: f[12]}
		size, namesize := int(f[6]), int(f[11])
		nameEnd := off + 110 + namesize
		if namesize == 0 || raw[nameEnd-1] != 0 {
			t.Fatalf("header at %d: name not NUL-terminated", off)
		}
		e.Name = string(raw[off+110 : nameEnd-1])
		dataOff := (nameEnd + 3) &^ 3
		zeros(nameEnd, dataOff)
		e.Data = string(raw[dataOff : dataOff+size])
		off = (dataOff + size + 3) &^ 3
		zeros(dataOff+size, off)
		if e.Name == trailerName {
			zeros(off, len(raw))
			return entries
		}
		entries = append(entries, e)
	}
}

// extract writes directories, files and symlinks of entries below dir; devices are left out.
func extract(t *testing.T, entries []cpioEntry, dir string) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(dir, e.Name)
		perm := os.FileMode(e.Mode & 0o777)
		var err error
		switch e.Mode & typeMask {
		case typeDir:
			err = os.MkdirAll(p, 0o755)
			if err == nil {
				err = os.Chmod(p, perm)
			}
		case typeReg:
			err = os.WriteFile(p, []byte(e.Data), perm)
		case typeLink:
			err = os.Symlink(e.Data, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// byName indexes entries by name.
func byName(entries []cpioEntry) map[string]cpioEntry {
	m := map[string]cpioEntry{}
	for _, e := range entries {
		m[e.Name] = e
	}
	return m
}
