package initramfs

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

const testKver = "6.1.0-99-amd64"

// Module paths of the synthetic tree, relative to the module directory.
const (
	overlay   = "kernel/fs/overlayfs/overlay.ko"
	ring      = "kernel/drivers/virtio/virtio_ring.ko"
	virtio    = "kernel/drivers/virtio/virtio.ko"
	blk       = "kernel/drivers/block/virtio_blk.ko"
	rng       = "kernel/drivers/char/hw_random/virtio-rng.ko"
	legacyDev = "kernel/drivers/virtio/virtio_pci_legacy_dev.ko"
	modernDev = "kernel/drivers/virtio/virtio_pci_modern_dev.ko"
	pci       = "kernel/drivers/virtio/virtio_pci.ko"
	crc16     = "kernel/lib/crc16.ko.zst"
	mbcache   = "kernel/fs/mbcache.ko.zst"
	jbd2      = "kernel/fs/jbd2/jbd2.ko.xz"
	ext4      = "kernel/fs/ext4/ext4.ko.xz"
)

// testModulesDep is in depmod's format; like the real one its lines are not in load order.
var testModulesDep = strings.Join([]string{
	blk + ": " + virtio + " " + ring,
	overlay + ":",
	ext4 + ": " + crc16 + " " + mbcache + " " + jbd2,
	rng + ": " + virtio + " " + ring,
	virtio + ": " + ring,
	ring + ":",
	crc16 + ":",
	mbcache + ":",
	jbd2 + ": " + crc16,
	pci + ": " + legacyDev + " " + modernDev + " " + virtio + " " + ring,
	legacyDev + ":",
	modernDev + ":",
}, "\n") + "\n"

const testModulesBuiltin = "kernel/fs/squashfs/squashfs.ko\nkernel/drivers/block/loop.ko\n"

// modulesTree writes a root filesystem with the synthetic modules of testKver and returns it
// with the module directory inside it. With mergedUsr, /lib is a symlink to usr/lib as on
// Debian bookworm.
func modulesTree(t *testing.T, mergedUsr bool, dep string) (rootfs, dir string) {
	t.Helper()
	rootfs = t.TempDir()
	dir = "/lib/modules/" + testKver
	if mergedUsr {
		dir = "/usr/lib/modules/" + testKver
		if err := os.Symlink("usr/lib", filepath.Join(rootfs, "lib")); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"modules.dep": dep, "modules.builtin": testModulesBuiltin}
	for _, rel := range []string{overlay, ring, virtio, blk, rng, legacyDev, modernDev, pci, crc16, mbcache, jbd2, ext4} {
		files[rel] = "fake module " + rel
	}
	for rel, data := range files {
		p := filepath.Join(rootfs, dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rootfs, dir
}

func TestAddModules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		calls    [][]string // names of each AddModules call
		wantLoad []string
	}{
		{name: "no dependencies", calls: [][]string{{"overlay"}}, wantLoad: []string{overlay}},
		{name: "dependencies first", calls: [][]string{{"virtio_blk"}}, wantLoad: []string{ring, virtio, blk}},
		{name: "dash in the name", calls: [][]string{{"virtio-blk"}}, wantLoad: []string{ring, virtio, blk}},
		{name: "dash in the file", calls: [][]string{{"virtio_rng"}}, wantLoad: []string{ring, virtio, rng}},
		{name: "compressed files", calls: [][]string{{"ext4"}}, wantLoad: []string{crc16, mbcache, jbd2, ext4}},
		{name: "shared dependencies once", calls: [][]string{{"overlay", "virtio_blk", "virtio_pci", "virtio_blk"}},
			wantLoad: []string{overlay, ring, virtio, blk, legacyDev, modernDev, pci}},
		{name: "built-in skipped", calls: [][]string{{"squashfs", "overlay", "loop"}}, wantLoad: []string{overlay}},
		{name: "only built-in", calls: [][]string{{"squashfs"}}, wantLoad: nil},
		{name: "calls accumulate", calls: [][]string{{"virtio_pci"}, {"overlay", "virtio_blk"}},
			wantLoad: []string{legacyDev, modernDev, ring, virtio, pci, overlay, blk}},
	} {
		for _, merged := range []bool{true, false} {
			t.Run(tc.name+map[bool]string{true: " merged usr", false: ""}[merged], func(t *testing.T) {
				rootfs, dir := modulesTree(t, merged, testModulesDep)
				b := New()
				for _, names := range tc.calls {
					if err := b.AddModules(rootfs, testKver, names...); err != nil {
						t.Fatal(err)
					}
				}
				checkModules(t, readArchive(t, build(t, b)), dir, merged, tc.wantLoad)
			})
		}
	}
}

// checkModules checks the module files, modules.dep and bootmedia.InitramfsModuleList of an archive.
func checkModules(t *testing.T, entries []cpioEntry, dir string, merged bool, wantLoad []string) {
	t.Helper()
	files := byName(entries)
	if got := files["lib"]; merged && (got.Mode != typeLink|0o777 || got.Data != "usr/lib") {
		t.Errorf("lib is %+v, want a symlink to usr/lib", got)
	}
	prefix := strings.TrimPrefix(dir, "/") + "/"
	var gotFiles, wantFiles []string
	for _, e := range entries {
		if rel, ok := strings.CutPrefix(e.Name, prefix); ok && e.Mode&typeMask == typeReg && rel != "modules.dep" {
			gotFiles = append(gotFiles, rel)
			if e.Data != "fake module "+rel || e.Mode != typeReg|0o644 {
				t.Errorf("%s: mode %o, content %q", e.Name, e.Mode, e.Data)
			}
		}
	}
	wantFiles = slices.Sorted(slices.Values(wantLoad))
	if diff := cmp.Diff(wantFiles, gotFiles); diff != "" {
		t.Errorf("module files (-want +got):\n%s", diff)
	}

	var wantOrder, wantDep strings.Builder
	for _, rel := range wantLoad {
		wantOrder.WriteString(path.Join(dir, rel) + "\n")
	}
	for _, line := range strings.SplitAfter(testModulesDep, "\n") {
		mod, _, _ := strings.Cut(line, ":")
		if slices.Contains(wantLoad, mod) {
			wantDep.WriteString(line)
		}
	}
	order := files[strings.TrimPrefix(bootmedia.InitramfsModuleList, "/")]
	if diff := cmp.Diff(wantOrder.String(), order.Data); diff != "" {
		t.Errorf("%s (-want +got):\n%s", bootmedia.InitramfsModuleList, diff)
	}
	dep := files[prefix+"modules.dep"]
	if diff := cmp.Diff(wantDep.String(), dep.Data); diff != "" {
		t.Errorf("modules.dep (-want +got):\n%s", diff)
	}
}

func TestAddModulesErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dep     string // modules.dep; "" for testModulesDep
		noDep   bool   // remove modules.dep
		remove  string // module file to remove
		kver    string
		names   []string
		wantErr error
		wantMsg string
	}{
		{name: "unknown module", names: []string{"overlay", "no_such_mod"}, wantErr: ErrUnknownModule, wantMsg: "no_such_mod"},
		{name: "no modules.dep", noDep: true, names: []string{"overlay"}, wantErr: fs.ErrNotExist, wantMsg: "depmod"},
		{name: "missing module file", remove: ring, names: []string{"virtio_blk"}, wantErr: fs.ErrNotExist, wantMsg: "virtio_ring.ko"},
		{name: "dependency without line", dep: blk + ": " + virtio + "\n", names: []string{"virtio_blk"}, wantMsg: "has no line"},
		{name: "cycle", dep: virtio + ": " + ring + "\n" + ring + ": " + virtio + "\n", names: []string{"virtio"}, wantMsg: "cycle"},
		{name: "malformed line", dep: overlay + "\n", names: []string{"overlay"}, wantMsg: "line 1"},
		{name: "module outside the directory", dep: "../../../etc/passwd:\n", names: []string{"passwd"}, wantMsg: "not inside"},
		{name: "bad kernel version", kver: "../x", names: []string{"overlay"}, wantMsg: "invalid kernel version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dep := testModulesDep
			if tc.dep != "" {
				dep = tc.dep
			}
			rootfs, dir := modulesTree(t, true, dep)
			if tc.noDep {
				tc.remove = "modules.dep"
			}
			if tc.remove != "" {
				if err := os.Remove(filepath.Join(rootfs, dir, tc.remove)); err != nil {
					t.Fatal(err)
				}
			}
			kver := testKver
			if tc.kver != "" {
				kver = tc.kver
			}
			b := New()
			before := maps.Clone(b.entries)
			err := b.AddModules(rootfs, kver, tc.names...)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("got error %v, want %v mentioning %q", err, tc.wantErr, tc.wantMsg)
			}
			t.Logf("error: %v", err)
			if !maps.Equal(before, b.entries) || b.modules != nil {
				t.Errorf("failed AddModules changed the builder: %q", slices.Sorted(maps.Keys(b.entries)))
			}
		})
	}
}

func TestAddModulesOtherKernel(t *testing.T) {
	rootfs, _ := modulesTree(t, true, testModulesDep)
	b := New()
	if err := b.AddModules(rootfs, testKver, "overlay"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddModules(rootfs, "6.1.0-98-amd64", "overlay"); err == nil {
		t.Error("modules of a second kernel: no error")
	}
	// A failed second call leaves the first one's modules as they were.
	if err := b.AddModules(rootfs, testKver, "virtio_blk", "no_such_mod"); !errors.Is(err, ErrUnknownModule) {
		t.Fatalf("got %v, want ErrUnknownModule", err)
	}
	checkModules(t, readArchive(t, build(t, b)), "/usr/lib/modules/"+testKver, true, []string{overlay})
}

func TestModuleKey(t *testing.T) {
	for in, want := range map[string]string{
		"virtio-rng":                     "virtio_rng",
		"virtio_rng":                     "virtio_rng",
		"kernel/fs/ext4/ext4.ko":         "ext4",
		"kernel/fs/ext4/ext4.ko.xz":      "ext4",
		"kernel/lib/crc16.ko.zst":        "crc16",
		"kernel/drivers/a/snd-hda.ko.gz": "snd_hda",
	} {
		if got := moduleKey(in); got != want {
			t.Errorf("moduleKey(%q) = %q, want %q", in, got, want)
		}
	}
}
