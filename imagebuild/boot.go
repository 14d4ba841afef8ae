package imagebuild

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/build/diskimage"
	"github.com/kilnproject/kiln/internal/build/initramfs"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
)

// initrdModules are the kernel modules kiln-init loads, in order: what it takes to find and
// mount the root and VAR on a VM (virtio), on bare metal (AHCI, NVMe, USB storage) and from a
// CD, to read Ignition from QEMU's fw_cfg, and to reach the network for a PXE root or a cloud's
// metadata service on common NICs that need no firmware files (Intel, Amazon ENA, VMware).
// ext4 wants crc32c, which only a soft dependency names, so it is listed.
var initrdModules = []string{
	"virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "virtio_rng", "virtio_console",
	"e1000", "e1000e", "igb", "igc", "ixgbe", "i40e", "ena", "vmxnet3",
	"ahci", "sd_mod", "nvme", "usb_storage", "uas", "xhci_pci", "ehci_pci",
	"sr_mod", "cdrom", "isofs", "loop",
	"crc32c_generic", "squashfs", "overlay", "ext4",
	"vfat", "nls_cp437", "nls_ascii", "nls_utf8",
	"qemu_fw_cfg",
}

// initrdPrograms are what kiln-init and Ignition run, with their shared libraries: making and
// growing VAR, and Ignition's users and groups.
var initrdPrograms = []string{
	"/usr/sbin/mke2fs", "/usr/sbin/e2fsck", "/usr/sbin/resize2fs",
	"/usr/sbin/useradd", "/usr/sbin/usermod", "/usr/sbin/groupadd", "/usr/sbin/chpasswd",
	"/usr/sbin/chroot",
}

// initrdCABundle is the CA bundle of Debian's ca-certificates, relative to the tree.
const initrdCABundle = "etc/ssl/certs/ca-certificates.crt"

// ESP layout: systemd-boot as the removable-media loader, one entry, the kernel and initramfs.
const (
	espLoader    = "EFI/BOOT/BOOTX64.EFI"
	espKernel    = "kiln/vmlinuz"
	espInitrd    = "kiln/initrd.img"
	systemdBoot  = "usr/lib/systemd/boot/efi/systemd-bootx64.efi"
	entryName    = "kiln.conf"
	baseKernArgs = bootargs.SystemdGPTAutoOff
)

// buildInitrd assembles the initramfs from the payload tree and kiln-init.
func buildInitrd(tree, kver, kilnInit, ignition, out string, mtime time.Time) error {
	b := initramfs.New()
	b.ModTime = mtime
	if err := b.AddFile("/init", kilnInit, 0o755); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if err := b.AddModules(tree, kver, initrdModules...); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if err := b.AddFromRootfs(tree, initrdPrograms...); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	// Ignition is an artifact of its own: stage it in the tree, then take it with its libraries.
	if err := copyFile(ignition, filepath.Join(tree, "usr/bin/ignition"), 0o755); err != nil {
		return err
	}
	if err := b.AddFromRootfs(tree, "/usr/bin/ignition"); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	// Ignition fetches an https ignition.config.url with the image's CA bundle (Go's crypto/x509
	// reads it from /etc/ssl/certs), when the image has one.
	if ca := filepath.Join(tree, initrdCABundle); fileExists(ca) {
		if err := b.AddFile("/"+initrdCABundle, ca, 0o644); err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// espFiles are the ESP's files for a disk or ISO boot, with the kernel command line.
func espFiles(tree, kver, initrd, cmdline string) []diskimage.File {
	return []diskimage.File{
		{Path: espLoader, Source: filepath.Join(tree, systemdBoot)},
		{Path: "loader/loader.conf", Data: []byte("default " + entryName + "\ntimeout 0\nconsole-mode keep\neditor no\n")},
		{Path: "loader/entries/" + entryName, Data: []byte(loaderEntry(kver, cmdline))},
		{Path: espKernel, Source: filepath.Join(tree, "boot", "vmlinuz-"+kver)},
		{Path: espInitrd, Source: initrd},
	}
}

func loaderEntry(kver, cmdline string) string {
	return fmt.Sprintf("title kiln (%s)\nlinux /%s\ninitrd /%s\noptions %s\n", kver, espKernel, espInitrd, cmdline)
}

// kernelCmdline is kiln's own arguments and then the profile's.
func kernelCmdline(profileArgs []string) string {
	return strings.TrimSpace(baseKernArgs + " " + strings.Join(profileArgs, " "))
}
