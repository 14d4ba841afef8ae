// Package initramfs builds kiln's initramfs, a reproducible cpio "newc" archive, without
// initramfs-tools or dracut: PID 1 is kiln-init (the caller adds it as /init), plus the kernel
// modules it loads, the Ignition binary and the programs Ignition runs, each with its ELF
// interpreter and shared libraries, all lifted out of a Debian root filesystem directory.
//
// A Builder holds entries keyed by absolute path; adding the same path twice is fine when the
// content is the same and an ErrConflict error otherwise, so independent parts of the image
// builder can add overlapping library sets. WriteTo writes the same bytes for the same set of
// entries, whatever order they were added in: entries sorted by path after a "." entry for the
// root, missing parent directories created 0755, uid and gid 0, every mtime Builder.ModTime,
// inode numbers assigned in that order, nlink 1 (2 for directories), the "TRAILER!!!" entry,
// zero padding to a 512-byte boundary. Every archive carries the device nodes /dev/console and
// /dev/null (the kernel opens /dev/console for PID 1 before devtmpfs is mounted) and the empty
// mount points /dev, /proc, /sys, /run, /tmp and /sysroot.
//
// AddFromRootfs copies programs with the libraries package elfdeps finds for them, symlinks as
// symlinks (Debian's merged /usr gives /lib → usr/lib and /lib64 → usr/lib64 in the archive
// too). AddModules copies kernel modules with their dependencies from modules.dep, keeps their
// files as they are (Debian bookworm's 6.1 kernel ships uncompressed .ko files; .ko.xz and
// .ko.zst are copied unchanged as well, since the kernel decompresses modules itself), and
// writes a reduced modules.dep and the load-order file bootmedia.InitramfsModuleList for kiln-init, which
// has no modprobe: soft dependencies (ext4's "pre: crypto-crc32c") are not followed, so the
// caller names such modules (crc32c_generic) itself.
//
// The archive is compressed with gzip from the standard library (level DefaultCompression,
// empty gzip header), like the container layers of package ociimage: it needs no module outside
// the standard library, is byte-for-byte deterministic for a given Go release, and every
// kernel decompresses it (CONFIG_RD_GZIP). zstd (CONFIG_RD_ZSTD, also in Debian's 6.1 kernel)
// would decompress some tenths of a second faster at boot, which does not pay for an extra
// dependency whose encoder output is only stable per version.
package initramfs
