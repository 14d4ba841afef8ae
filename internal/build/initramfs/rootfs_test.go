package initramfs

import (
	"errors"
	"maps"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestAddFromRootfsHost(t *testing.T) {
	const ls = "/usr/bin/ls"
	if _, err := os.Stat(ls); err != nil {
		t.Skipf("host has no %s: %v", ls, err)
	}
	b := New()
	if err := b.AddFromRootfs("/", ls); err != nil {
		t.Fatal(err)
	}
	entries := readArchive(t, build(t, b))
	files := byName(entries)
	for _, base := range []string{"ls", "libc.so.6", "ld-linux-x86-64.so.2"} {
		if !slices.ContainsFunc(entries, func(e cpioEntry) bool { return path.Base(e.Name) == base }) {
			t.Errorf("archive has no %s: %q", base, slices.Sorted(maps.Keys(files)))
		}
	}
	if e := files["usr/bin/ls"]; e.Mode&typeMask != typeReg || e.Mode&0o111 == 0 {
		t.Errorf("usr/bin/ls has mode %o, want an executable file", e.Mode)
	}

	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	dir := t.TempDir()
	extract(t, entries, dir)
	out, err := exec.Command("chroot", dir, ls, "/").CombinedOutput()
	if err != nil {
		t.Fatalf("chroot %s %s /: %v\n%s", dir, ls, err, out)
	}
	for _, want := range []string{"usr", "dev", "sysroot"} {
		if !slices.Contains(strings.Fields(string(out)), want) {
			t.Errorf("ls / in the chroot printed %q, want %s among it", out, want)
		}
	}
}

func TestAddFromRootfsAllOrNothing(t *testing.T) {
	const ls = "/usr/bin/ls"
	if _, err := os.Stat(ls); err != nil {
		t.Skipf("host has no %s: %v", ls, err)
	}
	for _, tc := range []struct {
		name    string
		prepare func(b *Builder) error
		paths   []string
		wantErr error
	}{
		{name: "missing program", paths: []string{ls, "/usr/bin/no-such-program"}, wantErr: os.ErrNotExist},
		{name: "relative path", paths: []string{"usr/bin/ls"}},
		{name: "conflict", paths: []string{ls}, wantErr: ErrConflict,
			prepare: func(b *Builder) error { return b.AddData(ls, []byte("not ls"), 0o755) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			if tc.prepare != nil {
				if err := tc.prepare(b); err != nil {
					t.Fatal(err)
				}
			}
			before := maps.Clone(b.entries)
			err := b.AddFromRootfs("/", tc.paths...)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			t.Logf("error: %v", err)
			if !maps.Equal(before, b.entries) {
				t.Errorf("failed AddFromRootfs changed the entries: %q", slices.Sorted(maps.Keys(b.entries)))
			}
		})
	}
}
