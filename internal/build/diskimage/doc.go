// Package diskimage writes a node's boot media from prepared inputs, reproducibly: the same
// files, root squashfs and Layout give a byte-identical image on every build and every machine.
//
// WriteRaw writes a GPT disk image (protective MBR, 128 partition entries, 1 MiB alignment):
//
//	#  label      type GUID                             content
//	1  ESP        C12A7328-F81F-11D2-BA4B-00A0C93EC93B  EFI System Partition, FAT32: systemd-boot,
//	                                                    loader.conf, the loader entry, kernel, initramfs
//	2  KILN-ROOT  4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709  Linux root (x86-64): the squashfs, copied raw,
//	                                                    sized to it rounded up to 1 MiB
//	3  KILN-VAR   4D21B016-B534-45C2-A9FB-5C16E091FD2D  Linux /var: empty (a hole in the file); the node
//	                                                    formats it on first boot and may grow it to
//	                                                    the end of the disk, which is why it comes last
//
// kiln-init finds the partitions by GPT label. The disk and partition GUIDs are derived from
// Layout.Seed (SHA-256 of seed+"/"+name, shaped as RFC 4122 version 4), never random.
//
// WriteISO writes an ISO 9660 image, volume label KILN, that boots on UEFI through El Torito:
// the boot catalog's validation entry names platform 0xEF and its default entry points, without
// emulation, at EFIBOOT.IMG, a FAT32 image with the same files as the ESP. Further files (the
// root squashfs, as kiln/root.squashfs) sit in the ISO 9660 tree, where the initramfs finds them.
//
// Neither filesystem comes from go-diskfs. Its FAT32 writer takes every directory-entry time from
// the process-wide SOURCE_DATE_EPOCH (or time.Now), stores the volume serial big-endian and
// rejects some sizes (exactly 64 MiB); its ISO 9660 writer stamps the volume descriptors and boot
// catalog with time.Now, takes file times from a scratch directory (Rock Ridge adds change
// times nobody can set) and cuts names to 8.3 without Rock Ridge. So fat.go and iso.go write
// both from scratch, small and fixed: sorted directories, contiguous files, every timestamp
// Layout.Time in UTC, the FAT volume serial derived from the seed. go-diskfs writes and reads the
// GPT, where the GUIDs are ours.
//
// Output is written to a temp file beside the target and renamed into place at the end, so a
// failed build leaves nothing behind. Empty space is never written: the image is truncated to its
// size first, so VAR, free FAT clusters and the ISO's padding stay holes in a sparse file.
package diskimage
