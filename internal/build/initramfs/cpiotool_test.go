package initramfs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// checkCpioList lists the uncompressed archive raw with GNU cpio and checks every entry of want
// is there with its ls-style mode, device number and link target, and nothing else.
func checkCpioList(t *testing.T, raw []byte, want []cpioEntry) {
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -itv: %v", err)
	}
	got := map[string]string{} // name → "mode [major,minor] [-> target]"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// mode nlink user group size month day year|time name [-> target]; a device
		// has "major, minor" for the size.
		fields := strings.Fields(line)
		desc, nameField := fields[0], 8
		if fields[0][0] == 'c' || fields[0][0] == 'b' {
			desc += " " + fields[4] + fields[5]
			nameField = 9
		}
		name, target, isLink := strings.Cut(strings.Join(fields[nameField:], " "), " -> ")
		if isLink {
			desc += " -> " + target
		}
		got[name] = desc
	}
	for _, e := range want {
		d := lsMode(e.Mode)
		if e.Mode&typeMask == typeChar || e.Mode&typeMask == typeBlock {
			d += fmt.Sprintf(" %d,%d", e.Major, e.Minor)
		}
		if e.Mode&typeMask == typeLink {
			d += " -> " + e.Data
		}
		if got[e.Name] != d {
			t.Errorf("cpio lists %s as %q, want %q", e.Name, got[e.Name], d)
		}
		delete(got, e.Name)
	}
	for name, d := range got {
		t.Errorf("cpio lists unexpected %s: %q", name, d)
	}
}

// checkCpioExtract extracts raw with GNU cpio (as root: device nodes and setuid bits need it)
// and checks each entry of want on disk.
func checkCpioExtract(t *testing.T, raw []byte, want []cpioEntry) {
	if os.Geteuid() != 0 {
		t.Skip("extracting device nodes needs root")
	}
	dir := t.TempDir()
	cmd := exec.Command("cpio", "-idm", "--quiet", "--no-absolute-filenames", "-D", dir)
	cmd.Stdin = bytes.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -idm: %v\n%s", err, out)
	}
	for _, e := range want {
		p := filepath.Join(dir, e.Name)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if st.Mode != e.Mode && e.Name != "." {
			t.Errorf("%s: mode %o, want %o", e.Name, st.Mode, e.Mode)
		}
		switch e.Mode & typeMask {
		case typeReg:
			data, err := os.ReadFile(p)
			if err != nil || string(data) != e.Data {
				t.Errorf("%s: content %q (%v), want %q", e.Name, data, err, e.Data)
			}
		case typeLink:
			if target, err := os.Readlink(p); target != e.Data {
				t.Errorf("%s: link to %q (%v), want %q", e.Name, target, err, e.Data)
			}
		case typeChar, typeBlock:
			major := uint32((st.Rdev>>8)&0xfff | (st.Rdev>>32)&^0xfff)
			minor := uint32(st.Rdev&0xff | (st.Rdev>>12)&^0xff)
			if major != e.Major || minor != e.Minor {
				t.Errorf("%s: device %d:%d, want %d:%d", e.Name, major, minor, e.Major, e.Minor)
			}
		}
	}
}

// lsMode formats a cpio mode as ls -l does.
func lsMode(m uint32) string {
	types := map[uint32]byte{typeDir: 'd', typeReg: '-', typeLink: 'l', typeChar: 'c', typeBlock: 'b'}
	s := []byte{types[m&typeMask]}
	for i, c := range "rwxrwxrwx" {
		if m&(1<<(8-i)) != 0 {
			s = append(s, byte(c))
		} else {
			s = append(s, '-')
		}
	}
	for _, sp := range []struct {
		bit uint32
		pos int
		set byte // with x; without x it is upper case
	}{{0o4000, 3, 's'}, {0o2000, 6, 's'}, {0o1000, 9, 't'}} {
		if m&sp.bit != 0 {
			if s[sp.pos] == 'x' {
				s[sp.pos] = sp.set
			} else {
				s[sp.pos] = sp.set - 'a' + 'A'
			}
		}
	}
	return string(s)
}
