package imagebuild_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/build/diskimage"
	"github.com/kilnproject/kiln/internal/build/profile"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
)

func outputOf(t *testing.T, outs []imagebuild.Output, format string) imagebuild.Output {
	t.Helper()
	for _, o := range outs {
		if o.Format == format {
			return o
		}
	}
	t.Fatalf("no %s output in %+v", format, outs)
	return imagebuild.Output{}
}

// TestBuildWorker builds the worker image twice and checks the outputs: byte-identical, a
// valid GPT with the three partitions, a clean ESP, a root holding the node's programs and
// baked images, metadata that kiln inspect reads back, no private key anywhere, and a UEFI
// boot in QEMU into kiln-init.
func TestBuildWorker(t *testing.T) {
	first := testimage.Build(t, "worker", t.TempDir())
	raw := outputOf(t, first, profile.FormatRaw)

	t.Run("Reproducible", func(t *testing.T) {
		second := testimage.Build(t, "worker", t.TempDir())
		for _, f := range []string{profile.FormatRaw, profile.FormatISO, profile.FormatPXE} {
			a, b := outputOf(t, first, f), outputOf(t, second, f)
			if a.SHA256 != b.SHA256 {
				t.Errorf("%s differs between two builds of the same inputs: %s vs %s", f, a.SHA256, b.SHA256)
			}
		}
	})

	t.Run("DiskLayout", func(t *testing.T) {
		out, err := exec.Command("sgdisk", "-v", raw.Path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "No problems found") {
			t.Errorf("sgdisk -v: %v\n%s", err, out)
		}
		table, err := diskimage.ReadPartitions(raw.Path)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ label, typ string }{{bootmedia.LabelESP, bootmedia.TypeESP}, {bootmedia.LabelRoot, bootmedia.TypeRoot}, {bootmedia.LabelVar, bootmedia.TypeVar}}
		if len(table.Partitions) != len(want) {
			t.Fatalf("partitions: %+v", table.Partitions)
		}
		for i, w := range want {
			if p := table.Partitions[i]; p.Label != w.label || p.Type != w.typ {
				t.Errorf("partition %d is %s/%s, want %s/%s", i+1, p.Label, p.Type, w.label, w.typ)
			}
		}
		esp, _ := table.ByLabel(bootmedia.LabelESP)
		espFile := extractRange(t, raw.Path, esp.Start, esp.Size)
		if out, err := exec.Command("fsck.vfat", "-n", espFile).CombinedOutput(); err != nil {
			t.Errorf("fsck.vfat -n: %v\n%s", err, out)
		}
		for _, f := range []string{"::/EFI/BOOT/BOOTX64.EFI", "::/kiln/vmlinuz", "::/kiln/initrd.img", "::/loader/entries/kiln.conf"} {
			if out, err := exec.Command("mdir", "-i", espFile, f).CombinedOutput(); err != nil {
				t.Errorf("ESP lacks %s: %v\n%s", f, err, out)
			}
		}
		root, _ := table.ByLabel(bootmedia.LabelRoot)
		list, err := exec.Command("unsquashfs", "-o", strconv.FormatInt(root.Start, 10), "-l", raw.Path).Output()
		if err != nil {
			t.Fatalf("unsquashfs -l: %v", err)
		}
		for _, f := range []string{"usr/bin/kubelet", "usr/bin/containerd", "usr/sbin/runc", "opt/cni/bin/bridge", "usr/lib/kiln/images/pause.tar", "usr/lib/kiln/images/kube-proxy.tar", "usr/lib/kiln/image.json"} {
			if !bytes.Contains(list, []byte("squashfs-root/"+f+"\n")) {
				t.Errorf("the root filesystem lacks /%s", f)
			}
		}
	})

	t.Run("Inspect", func(t *testing.T) {
		ins, err := imagebuild.Inspect(context.Background(), raw.Path)
		if err != nil {
			t.Fatal(err)
		}
		md := ins.Metadata
		if md.Role != profile.RoleWorker || md.KubernetesVersion != "v1.36.3" || len(md.Images) != 3 || ins.Partitions == nil {
			t.Errorf("inspect: %+v", md)
		}
		refs := map[string]bool{}
		for _, img := range md.Images {
			refs[img.Ref] = strings.HasPrefix(img.Digest, "sha256:")
		}
		for _, ref := range []string{"registry.k8s.io/pause:3.10.2", "registry.k8s.io/kube-proxy:v1.36.3", "registry.k8s.io/coredns/coredns:v1.14.7"} {
			if !refs[ref] {
				t.Errorf("inspect does not list %s with a digest: %+v", ref, md.Images)
			}
		}
	})

	t.Run("NoPrivateKeys", func(t *testing.T) {
		table, err := diskimage.ReadPartitions(raw.Path)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := table.ByLabel(bootmedia.LabelRoot)
		tree := filepath.Join(t.TempDir(), "root")
		if out, err := exec.Command("unsquashfs", "-o", strconv.FormatInt(root.Start, 10), "-d", tree, "-no-progress", raw.Path).CombinedOutput(); err != nil {
			t.Fatalf("unsquashfs: %v\n%s", err, out)
		}
		initrd := gunzip(t, filepath.Join(outputOf(t, first, profile.FormatPXE).Path, imagebuild.PXEInitrd))
		scanned := 0
		check := func(name string, data []byte) {
			scanned++
			if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
				t.Errorf("%s holds a PEM private key", name)
			}
		}
		check("initramfs", initrd)
		filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			check(strings.TrimPrefix(p, tree), data)
			return nil
		})
		if scanned < 1000 {
			t.Errorf("scanned only %d files: the scan did not see the root filesystem", scanned)
		}
	})

	t.Run("BootsIntoKilnInit", func(t *testing.T) {
		harness.RequireVM(t)
		vm := harness.Start(t, harness.Config{Name: "worker", Disk: raw.Path, Overlay: true, OverlaySize: 4 << 30})
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		if _, err := vm.WaitFor(ctx, harness.MarkerInit); err != nil {
			t.Fatalf("the image did not reach kiln-init: %v", err)
		}
		vm.Kill()
	})

	t.Run("ISOBootsIntoKilnInit", func(t *testing.T) {
		harness.RequireVM(t)
		iso := outputOf(t, first, profile.FormatISO)
		vm := harness.Start(t, harness.Config{Name: "worker-iso", CDROM: iso.Path})
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		if _, err := vm.WaitFor(ctx, harness.MarkerInit); err != nil {
			t.Fatalf("the ISO did not reach kiln-init: %v", err)
		}
		vm.Kill()
	})
}

// extractRange copies length bytes at offset of file into a temporary file.
func extractRange(t *testing.T, file string, offset, length int64) string {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "part.img")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.NewSectionReader(in, offset, length)); err != nil {
		t.Fatal(err)
	}
	return out
}

func gunzip(t *testing.T, file string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
