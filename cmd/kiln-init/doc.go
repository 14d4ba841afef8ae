// Command kiln-init is PID 1 of a kiln node's initramfs: it mounts the read-only root, makes /etc
// and /var writable on the VAR partition, runs Ignition on first boot and executes systemd. All
// of it lives in package earlyboot. Build it static (CGO_ENABLED=0): the initramfs has no libc
// for it.
package main
