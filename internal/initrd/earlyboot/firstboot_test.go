package earlyboot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMarkFirstBoot(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef\n"
	for _, tc := range []struct {
		name     string
		content  *string // nil: no file
		want     string  // content afterwards, "-" for no file
		wantPset bool
	}{
		{"empty, as the image has it", ptr(""), "uninitialized\n", true},
		{"uninitialized", ptr("uninitialized\n"), "uninitialized\n", true},
		{"missing", nil, "-", true},
		{"set", ptr(id), id, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "machine-id")
			if tc.content != nil {
				writeFile(t, p, *tc.content)
			}
			preset, err := markFirstBoot(p)
			if err != nil {
				t.Fatal(err)
			}
			if preset != tc.wantPset {
				t.Errorf("preset = %v, want %v", preset, tc.wantPset)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				got = []byte("-")
			}
			if string(got) != tc.want {
				t.Errorf("machine-id = %q, want %q", got, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestMaskUnitForBoot(t *testing.T) {
	run := t.TempDir()
	for range 2 { // a second run finds the link in place
		if err := maskUnitForBoot(run, firstbootWizard); err != nil {
			t.Fatal(err)
		}
	}
	if target, err := os.Readlink(filepath.Join(run, "systemd/system", firstbootWizard)); err != nil || target != "/dev/null" {
		t.Errorf("mask link = %q, %v; want /dev/null", target, err)
	}
}
