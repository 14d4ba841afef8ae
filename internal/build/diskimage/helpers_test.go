package diskimage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var buildTime = time.Date(2026, 5, 1, 12, 30, 44, 0, time.UTC)

// randomFile writes size pseudo-random bytes (fixed by seed) to a file in dir.
func randomFile(t *testing.T, dir, name string, size int, seed uint64) string {
	t.Helper()
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testESP returns the files of a typical ESP, with sources under dir.
func testESP(t *testing.T, dir string) []File {
	t.Helper()
	return []File{
		{Path: "EFI/BOOT/BOOTX64.EFI", Source: randomFile(t, dir, "systemd-bootx64.efi", 100_000, 1)},
		{Path: "loader/loader.conf", Data: []byte("default kiln.conf\ntimeout 0\n")},
		{Path: "loader/entries/kiln.conf", Data: []byte("title kiln\nlinux /kiln/vmlinuz\ninitrd /kiln/initrd.img\noptions console=ttyS0\n")},
		{Path: "loader/entries/kiln-v1.36.3 with a very long name, to need several slots.conf", Data: []byte("x\n")},
		{Path: "kiln/vmlinuz", Source: randomFile(t, dir, "vmlinuz", 2<<20, 2)},
		{Path: "kiln/initrd.img", Source: randomFile(t, dir, "initrd.img", 5<<20+7, 3)},
		{Path: "kiln/initrd-2.img", Source: randomFile(t, dir, "initrd-2.img", 1000, 4)},
		{Path: "kiln/empty", Data: []byte{}},
	}
}

// content returns the bytes of f.
func content(t *testing.T, f File) []byte {
	t.Helper()
	if f.Source == "" {
		return f.Data
	}
	b, err := os.ReadFile(f.Source)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// needTools skips the test when a host tool is missing (`make deps` installs them).
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install gdisk dosfstools mtools xorriso)", tool)
		}
	}
}

// run runs a command and fails the test when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// extract copies size bytes at off of the file src into a new file and returns its path.
func extract(t *testing.T, src string, off, size int64) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p := filepath.Join(t.TempDir(), "part.img")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, io.NewSectionReader(in, off, size)); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkFATContents runs fsck.vfat on the FAT image img and reads every file back with mtools.
func checkFATContents(t *testing.T, img string, files []File) {
	t.Helper()
	needTools(t, "fsck.vfat", "mcopy")
	run(t, "fsck.vfat", "-n", "-V", img)
	out := t.TempDir()
	for i, f := range files {
		dst := filepath.Join(out, "f"+string(rune('a'+i)))
		run(t, "mcopy", "-n", "-i", img, "::/"+f.Path, dst)
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content(t, f)) {
			t.Errorf("%s: read back %d bytes that differ from the %d written", f.Path, len(got), len(content(t, f)))
		}
	}
}

// dirEntries lists the names in dir, to show that nothing is left behind.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
