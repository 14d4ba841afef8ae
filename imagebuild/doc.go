// Package imagebuild turns a node profile and its artifacts into bootable outputs:
//
//	profile + lock ─▶ payload tree (base rootfs + kubelet, containerd, runc, CNI, images, kiln)
//	               ─▶ root.squashfs (mksquashfs, reproducible)
//	               ─▶ initramfs (kiln-init, kernel modules, Ignition and what it runs)
//	               ─▶ ESP files (systemd-boot, loader entry, kernel, initramfs)
//	               ─▶ NAME.raw (GPT: ESP | KILN-ROOT | KILN-VAR), NAME.iso, NAME-pxe/
//
// Every step reads only its inputs and SOURCE_DATE_EPOCH, so two builds of the same inputs are
// byte-identical. No secret enters an image: cluster keys travel in Ignition configs only.
package imagebuild
