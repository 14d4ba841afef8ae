// Package bootargs names the kernel command line parameters kiln-init parses and the build
// writes (the boot entry, the PXE bundle's iPXE script). Ignition's own parameters keep
// Ignition's names. Standard library only.
package bootargs
