package earlyboot

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestParseModuleList(t *testing.T) {
	const kdir = "/usr/lib/modules/6.1.0-56-amd64/kernel/"
	in := "# load order\n" + kdir + "drivers/virtio/virtio_ring.ko\n\n  " + kdir + "drivers/virtio/virtio.ko  \n" + kdir + "fs/ext4/ext4.ko.xz\n"
	got, err := parseModuleList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{kdir + "drivers/virtio/virtio_ring.ko", kdir + "drivers/virtio/virtio.ko", kdir + "fs/ext4/ext4.ko.xz"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseModuleList (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"virtio.ko\n", "/a/../b.ko\n", "/a//b.ko\n"} {
		if _, err := parseModuleList(strings.NewReader(bad)); !errors.Is(err, ErrInvalidModuleList) {
			t.Errorf("parseModuleList(%q) = %v, want ErrInvalidModuleList", bad, err)
		}
	}
}

func TestLoadModules(t *testing.T) {
	results := map[string]error{
		"/m/a.ko":             nil,
		"/m/b.ko":             unix.EEXIST,
		"/m/qemu_fw_cfg.ko":   unix.ENODEV,
		"/m/c.ko.zst":         nil,
		"/m/wrong-kernel.ko":  unix.ENOEXEC,
		"/m/never-reached.ko": nil,
	}
	var loaded []string
	load := func(file string) error {
		loaded = append(loaded, file)
		return results[file]
	}

	res, err := loadModules([]string{"/m/a.ko", "/m/b.ko", "/m/qemu_fw_cfg.ko", "/m/c.ko.zst"}, load)
	if err != nil {
		t.Fatal(err)
	}
	want := moduleResult{Loaded: 2, Present: 1, Skipped: []string{fmt.Sprintf("qemu_fw_cfg: %v", unix.ENODEV)}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("loadModules (-want +got):\n%s", diff)
	}

	loaded = nil
	_, err = loadModules([]string{"/m/a.ko", "/m/wrong-kernel.ko", "/m/never-reached.ko"}, load)
	if !errors.Is(err, unix.ENOEXEC) || !strings.Contains(err.Error(), "wrong-kernel.ko") {
		t.Errorf("loadModules with a bad module = %v, want ENOEXEC naming it", err)
	}
	if len(loaded) != 2 {
		t.Errorf("loaded %v after the failure, want a stop at it", loaded)
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"/lib/modules/k/kernel/drivers/char/hw_random/virtio-rng.ko": "virtio_rng",
		"/x/ext4.ko.xz":   "ext4",
		"/x/crc16.ko.zst": "crc16",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}
