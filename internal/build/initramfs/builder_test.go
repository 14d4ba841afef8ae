package initramfs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sampleAdds returns one call per entry of a small archive with every kind of entry.
func sampleAdds(t *testing.T) []func(*Builder) error {
	tool := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(tool, []byte("tool-binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []func(*Builder) error{
		func(b *Builder) error { return b.AddData("/init", []byte("#!/bin/sh\nexec sh\n"), 0o755) },
		func(b *Builder) error { return b.AddData("/etc/hostname", []byte("kiln\n"), 0o644) },
		func(b *Builder) error { return b.AddData("/empty", nil, 0o600) },
		func(b *Builder) error { return b.AddFile("/usr/bin/tool", tool, fs.ModeSetuid|0o755) },
		func(b *Builder) error { return b.AddDir("/var/empty", 0o700) },
		func(b *Builder) error { return b.AddDir("/etc/kiln", 0o750) },
		func(b *Builder) error { return b.AddSymlink("/bin", "usr/bin") },
		func(b *Builder) error { return b.AddSymlink("/usr/bin/sh", "tool") },
		func(b *Builder) error { return b.AddDevice("/dev/sda", false, 8, 0, 0o660) },
		func(b *Builder) error { return b.AddDevice("/dev/tty0", true, 4, 0, 0o620) },
	}
}

// sampleWant is the archive of sampleAdds: name, mode, rdev and data, in archive order.
var sampleWant = []cpioEntry{
	{Name: ".", Mode: 0o40755},
	{Name: "bin", Mode: 0o120777, Data: "usr/bin"},
	{Name: "dev", Mode: 0o40755},
	{Name: "dev/console", Mode: 0o20600, Major: 5, Minor: 1},
	{Name: "dev/null", Mode: 0o20666, Major: 1, Minor: 3},
	{Name: "dev/sda", Mode: 0o60660, Major: 8, Minor: 0},
	{Name: "dev/tty0", Mode: 0o20620, Major: 4, Minor: 0},
	{Name: "empty", Mode: 0o100600},
	{Name: "etc", Mode: 0o40755},
	{Name: "etc/hostname", Mode: 0o100644, Data: "kiln\n"},
	{Name: "etc/kiln", Mode: 0o40750},
	{Name: "init", Mode: 0o100755, Data: "#!/bin/sh\nexec sh\n"},
	{Name: "proc", Mode: 0o40755},
	{Name: "run", Mode: 0o40755},
	{Name: "sys", Mode: 0o40755},
	{Name: "sysroot", Mode: 0o40755},
	{Name: "tmp", Mode: 0o41777},
	{Name: "usr", Mode: 0o40755},
	{Name: "usr/bin", Mode: 0o40755},
	{Name: "usr/bin/sh", Mode: 0o120777, Data: "tool"},
	{Name: "usr/bin/tool", Mode: 0o104755, Data: "tool-binary"},
	{Name: "var", Mode: 0o40755},
	{Name: "var/empty", Mode: 0o40700},
}

func sampleBuilder(t *testing.T, reverse bool) *Builder {
	t.Helper()
	adds := sampleAdds(t)
	if reverse {
		slices.Reverse(adds)
	}
	b := New()
	for _, add := range adds {
		if err := add(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := sampleBuilder(t, false)
	b.ModTime = time.Unix(1700000000, 0)
	gz := build(t, b)
	got := readArchive(t, gz)

	want := slices.Clone(sampleWant)
	for i := range want {
		want[i].Ino = uint32(i + 1)
		want[i].Nlink = 1
		if want[i].Mode&typeMask == typeDir {
			want[i].Nlink = 2
		}
		want[i].Mtime = 1700000000
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archive (-want +got):\n%s", diff)
	}

	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skipf("no cpio to cross-check with: %v", err)
	}
	raw := decompress(t, gz)
	t.Run("cpio -itv", func(t *testing.T) { checkCpioList(t, raw, sampleWant) })
	t.Run("cpio -idm", func(t *testing.T) { checkCpioExtract(t, raw, sampleWant) })
}

func TestReproducible(t *testing.T) {
	a := build(t, sampleBuilder(t, false))
	b2 := sampleBuilder(t, true)
	if err := sampleAdds(t)[0](b2); err != nil { // the same entry again changes nothing
		t.Fatal(err)
	}
	b := build(t, b2)
	if !bytes.Equal(a, b) {
		t.Errorf("builds differ: %d and %d bytes", len(a), len(b))
	}
	later := sampleBuilder(t, false)
	later.ModTime = time.Unix(1, 0)
	if bytes.Equal(a, build(t, later)) {
		t.Errorf("ModTime does not change the archive")
	}
}

func TestAddConflicts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		adds    []func(*Builder) error // all but the last must succeed
		wantErr error                  // of the last, nil for none
	}{
		{name: "same data twice", adds: adds(
			func(b *Builder) error { return b.AddData("/f", []byte("data"), 0o640) },
			func(b *Builder) error { return b.AddData("/f", []byte("data"), 0o640) })},
		{name: "data then same host file", adds: adds(
			func(b *Builder) error { return b.AddData("/f", []byte("data"), 0o640) },
			func(b *Builder) error { return b.AddFile("/f", file, 0) })},
		{name: "different data", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddData("/f", []byte("data"), 0o640) },
			func(b *Builder) error { return b.AddData("/f", []byte("other"), 0o640) })},
		{name: "different mode", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddData("/f", []byte("data"), 0o640) },
			func(b *Builder) error { return b.AddFile("/f", file, 0o644) })},
		{name: "file then dir", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddData("/f", []byte("data"), 0o755) },
			func(b *Builder) error { return b.AddDir("/f", 0o755) })},
		{name: "dir twice", adds: adds(
			func(b *Builder) error { return b.AddDir("/d", 0o700) },
			func(b *Builder) error { return b.AddDir("/d", 0o700) })},
		{name: "dir modes", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddDir("/d", 0o700) },
			func(b *Builder) error { return b.AddDir("/d", 0o755) })},
		{name: "symlink targets", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddSymlink("/l", "a") },
			func(b *Builder) error { return b.AddSymlink("/l", "b") })},
		{name: "default console again", adds: adds(
			func(b *Builder) error { return b.AddDevice("/dev/console", true, 5, 1, 0o600) })},
		{name: "default console changed", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddDevice("/dev/console", false, 5, 1, 0o600) })},
		{name: "default tmp changed", wantErr: ErrConflict, adds: adds(
			func(b *Builder) error { return b.AddDir("/tmp", 0o755) })},
		{name: "relative path", wantErr: ErrInvalidPath, adds: adds(
			func(b *Builder) error { return b.AddDir("d", 0o755) })},
		{name: "unclean path", wantErr: ErrInvalidPath, adds: adds(
			func(b *Builder) error { return b.AddData("/a/../f", nil, 0o644) })},
		{name: "trailing slash", wantErr: ErrInvalidPath, adds: adds(
			func(b *Builder) error { return b.AddDir("/d/", 0o755) })},
		{name: "root", wantErr: ErrInvalidPath, adds: adds(
			func(b *Builder) error { return b.AddDir("/", 0o755) })},
		{name: "empty symlink target", wantErr: ErrInvalidPath, adds: adds(
			func(b *Builder) error { return b.AddSymlink("/l", "") })},
		{name: "missing host file", wantErr: fs.ErrNotExist, adds: adds(
			func(b *Builder) error { return b.AddFile("/f", file+".missing", 0) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			for i, add := range tc.adds {
				err := add(b)
				if i < len(tc.adds)-1 {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
					t.Fatalf("got error %v, want %v", err, tc.wantErr)
				}
				t.Logf("error: %v", err)
			}
		})
	}
}

func adds(fns ...func(*Builder) error) []func(*Builder) error { return fns }

func TestAddFileNotRegular(t *testing.T) {
	if err := New().AddFile("/d", t.TempDir(), 0o644); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("AddFile of a directory: got %v", err)
	}
}

func TestWriteToParentNotDirectory(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  func(b *Builder) error
	}{
		{name: "symlink", add: func(b *Builder) error { return b.AddSymlink("/lib", "usr/lib") }},
		{name: "file", add: func(b *Builder) error { return b.AddData("/lib", nil, 0o644) }},
		{name: "device", add: func(b *Builder) error { return b.AddDevice("/lib", true, 1, 3, 0o666) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			if err := b.AddData("/lib/modules/x", []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tc.add(b); err != nil {
				t.Fatal(err)
			}
			_, err := b.WriteTo(&bytes.Buffer{})
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "parent /lib of /lib/modules") {
				t.Errorf("got %v, want ErrConflict about /lib", err)
			}
		})
	}
}

func TestSourceChanged(t *testing.T) {
	for _, tc := range []struct{ name, now string }{
		{name: "same size", now: "DATA"},
		{name: "longer", now: "data and more"},
		{name: "shorter", now: "da"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(src, []byte("data"), 0o644); err != nil {
				t.Fatal(err)
			}
			b := New()
			if err := b.AddFile("/f", src, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(src, []byte(tc.now), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := b.WriteTo(&bytes.Buffer{}); !errors.Is(err, ErrSourceChanged) {
				t.Errorf("got %v, want ErrSourceChanged", err)
			}
		})
	}
}

func TestModTimeOutOfRange(t *testing.T) {
	for _, mt := range []time.Time{time.Unix(-1, 0), time.Unix(1<<32, 0)} {
		b := New()
		b.ModTime = mt
		if _, err := b.WriteTo(&bytes.Buffer{}); err == nil {
			t.Errorf("ModTime %s: no error", mt)
		}
	}
}
