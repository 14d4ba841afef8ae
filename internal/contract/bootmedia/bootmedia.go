package bootmedia

// GPT partition names of the disk image; kiln-init finds the partitions by these (PARTNAME).
const (
	LabelESP  = "ESP"
	LabelRoot = "KILN-ROOT" // the root squashfs, read-only
	LabelVar  = "KILN-VAR"  // /var, the disk's last partition: formatted and grown on first boot
)

// GPT partition type GUIDs of the disk image.
const (
	TypeESP  = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" // EFI System Partition
	TypeRoot = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" // Linux root (x86-64)
	TypeVar  = "4D21B016-B534-45C2-A9FB-5C16E091FD2D" // Linux /var
)

// Filesystem labels.
const (
	// ISOVolumeLabel is the ISO 9660 volume identifier of the live ISO.
	ISOVolumeLabel = "KILN"
	// ESPVolumeLabel is the FAT volume label of the ESP.
	ESPVolumeLabel = "KILN-ESP"
)

// ISORootSquashfs is the path of the root squashfs inside the ISO, relative to its root.
const ISORootSquashfs = "kiln/root.squashfs"

// InitramfsModuleList lists the kernel modules kiln-init loads, one absolute path inside the
// initramfs per line, each after the modules it depends on.
const InitramfsModuleList = "/etc/kiln/modules"
