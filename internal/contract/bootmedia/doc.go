// Package bootmedia names what kiln's boot media carry for kiln-init to find: the GPT partition
// names and type GUIDs of the disk image, the ISO's volume label and the path of the root
// squashfs on it, and the files of the initramfs. The build side (internal/build/diskimage,
// internal/build/initramfs, imagebuild) writes them and kiln-init (internal/initrd/...) reads
// them; both import them from here, so they cannot drift apart. Standard library only.
package bootmedia
