package diskimage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

func writeTestISO(t *testing.T, seed string) (iso string, esp, extra []File) {
	t.Helper()
	dir := t.TempDir()
	esp = testESP(t, dir)
	extra = []File{
		{Path: bootmedia.ISORootSquashfs, Source: randomFile(t, dir, "root.squashfs", 3<<20+5, 9)},
		{Path: "kiln/VERSION", Data: []byte("v0.1.0\n")},
		{Path: "README", Data: []byte("kiln node image\n")},
		{Path: "kiln/empty", Data: []byte{}},
	}
	iso = filepath.Join(t.TempDir(), "node.iso")
	if err := WriteISO(iso, esp, extra, Layout{Seed: seed, Time: buildTime}); err != nil {
		t.Fatal(err)
	}
	return iso, esp, extra
}

func TestWriteISO(t *testing.T) {
	needTools(t, "xorriso")
	iso, esp, extra := writeTestISO(t, "node-a")
	// The smallest FAT32 (the ESP fits), the 3 MiB squashfs, a little metadata and padding.
	fi, err := os.Stat(iso)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > MinESPSize+4*MiB {
		t.Errorf("ISO of %d bytes, want at most %d", fi.Size(), MinESPSize+4*MiB)
	}

	out := run(t, "xorriso", "-indev", iso, "-report_el_torito", "plain")
	for _, re := range []string{
		`Volume id\s+:\s+'KILN'`,
		`El Torito boot img :\s+1\s+UEFI\s+y\s+none\s+0x0000\s+0x00\s+0\s+\d+`,
		`El Torito img path :\s+1\s+/EFIBOOT.IMG`,
		`El Torito cat path :\s+/BOOT.CAT`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("xorriso -report_el_torito does not match %s:\n%s", re, out)
		}
	}

	dir := t.TempDir()
	for _, f := range extra {
		dst := filepath.Join(dir, filepath.Base(f.Path))
		run(t, "xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/"+strings.ToUpper(f.Path), dst)
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content(t, f)) {
			t.Errorf("%s: read back %d bytes that differ from the %d written", f.Path, len(got), len(content(t, f)))
		}
	}

	// The El Torito image is the ESP.
	img := filepath.Join(dir, "efiboot.img")
	run(t, "xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/EFIBOOT.IMG", img)
	checkFATContents(t, img, esp)

	// Everything is stamped with the build time.
	out = run(t, "xorriso", "-indev", iso, "-pvd_info")
	for _, field := range []string{"Creation Time", "Modif. Time"} {
		if !regexp.MustCompile(field + `\s*:\s*2026050112304400`).MatchString(out) {
			t.Errorf("%s is not the build time:\n%s", field, out)
		}
	}
	out = run(t, "xorriso", "-indev", iso, "-find", "/", "-exec", "lsdl")
	if n := strings.Count(out, "May  1  2026"); n != 8 { // /, KILN, 6 files
		t.Errorf("%d entries dated May 1 2026, want 8:\n%s", n, out)
	}
}

func TestWriteISOIsReproducible(t *testing.T) {
	a, _, _ := writeTestISO(t, "node-a")
	b, _, _ := writeTestISO(t, "node-a")
	if fileSHA256(t, a) != fileSHA256(t, b) {
		t.Error("two builds of the same inputs differ")
	}
}

func TestWriteISOErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-squashfs")
	big := randomFile(t, dir, "big", 34<<20, 5)
	esp := []File{{Path: "EFI/BOOT/BOOTX64.EFI", Data: []byte("MZ")}}
	for _, tc := range []struct {
		name     string
		esp      []File
		extra    []File
		layout   Layout
		want     error
		contains string
	}{
		{name: "missing source", extra: []File{{Path: bootmedia.ISORootSquashfs, Source: missing}}, want: os.ErrNotExist, contains: missing},
		{name: "missing esp source", esp: []File{{Path: "kiln/vmlinuz", Source: missing}}, want: os.ErrNotExist, contains: missing},
		{name: "not a d-character", extra: []File{{Path: "kiln/root-fs.squashfs"}}, want: ErrInvalidFile, contains: "root-fs"},
		{name: "two dots", extra: []File{{Path: "root.fs.squashfs"}}, want: ErrInvalidFile},
		{name: "dotted directory", extra: []File{{Path: "a.d/b"}}, want: ErrInvalidFile},
		{name: "too long", extra: []File{{Path: strings.Repeat("A", 31)}}, want: ErrInvalidFile},
		{name: "too deep", extra: []File{{Path: "a/b/c/d/e/f/g/h/i"}}, want: ErrInvalidFile},
		{name: "reserved name", extra: []File{{Path: "efiboot.img"}}, want: ErrInvalidFile},
		{name: "esp too small", esp: []File{{Path: "initrd", Source: big}}, layout: Layout{ESPSize: 34 * MiB}, want: ErrESPTooSmall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			e := esp
			if tc.esp != nil {
				e = tc.esp
			}
			err := WriteISO(filepath.Join(out, "node.iso"), e, tc.extra, tc.layout)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not name %s", err, tc.contains)
			}
			if left := dirEntries(t, out); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
