// Package blockdev is what kiln-init knows of block devices without udev, blkid or mount(8):
// the devices and partitions sysfs lists (Scan, ByPartName), the filesystem signatures at their
// start (Probe), growing the last GPT partition to an enlarged disk (GrowGPT, ResizePartition)
// and read-only loop devices (AttachLoop). Like u-root's pkg/mount/block, gpt and loop, one
// concern each, in one package for kiln-init. Standard library and golang.org/x/sys, plus
// go-diskfs's GPT reader and writer.
package blockdev
