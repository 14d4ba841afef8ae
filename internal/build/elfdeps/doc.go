// Package elfdeps finds everything a dynamically linked ELF program needs to run inside a root
// filesystem that is not the running system's: its ELF interpreter (PT_INTERP), the shared
// libraries it names in DT_NEEDED, transitively, found the way the dynamic loader finds them
// (RPATH, RUNPATH with $ORIGIN, then the multiarch library directories), and every symlink
// passed on the way, so that copying the returned paths into an image (symlinks as symlinks)
// gives a tree where the program starts.
//
// Paths are resolved as if the root were chroot's root: absolute symlink targets start at the
// root and ".." stops there, so a resolution never leaves the root. The container image builder
// and the initramfs builder both use it.
package elfdeps
