// Package harness runs QEMU virtual machines for kiln's VM tests: it builds the command line
// from a Config, captures the serial console with host timestamps, waits for console markers
// with timeouts, powers the guest off over QMP, and never leaves a QEMU process behind.
//
// # Machine
//
// Every VM is "-machine q35" with virtio-rng-pci (without an entropy source mkfs and
// systemd-random-seed stall for seconds), "-nodefaults -display none", 2 CPUs and 2048 MiB
// unless the Config says otherwise, and "-no-reboot" unless AllowReboot: a guest reboot, and
// a kernel panic with panic=-1, ends QEMU like a power-off does. The boot disk is virtio-blk
// with bootindex=1; Config.Overlay puts a qcow2 overlay (qemu-img, Debian package qemu-utils)
// in front of it so a test never writes to a built image. UEFI boots Debian's OVMF from two
// pflash drives, the code read-only and a fresh copy of the VARS template per VM (or the
// VARS file of an earlier VM, to boot the same machine twice). A direct kernel boot (Kernel,
// Initrd, Append) bypasses the firmware through SeaBIOS unless Firmware says UEFI.
//
// # Sharing the host
//
// HoldHost makes a test the only VM test on the machine running its VMs until it ends (a lock
// file shared by every test process), and Config.Nice lowers the priority of a VM that can
// wait. Under TCG every vCPU is a host thread that is busy whenever the guest is, and a control
// plane starved of CPU has its API server killed by its own probes.
//
// # Accelerator
//
// DetectAccel returns "tcg" unless /dev/kvm opens and a probe VM (OVMF, no disk) reaches the
// OVMF boot manager with KVM within DefaultAccelProbeTimeout; on these machines /dev/kvm can
// exist while nested virtualisation hangs. The answer is computed once per process, and the
// environment variable KILN_QEMU_ACCEL=tcg|kvm skips the probe. TCG runs "-cpu max", KVM
// "-cpu host".
//
// # Console, markers and timings
//
// QEMU connects its serial port (ttyS0: boot the kernel with console=ttyS0) and its QMP
// monitor as a client to unix sockets the harness listens on before QEMU starts, so no
// console byte is lost and nothing polls for a socket to appear. Every line is kept in memory
// and written to NAME-console.log as "[  12.345s] text", the time being host time since QEMU
// started and the text cleaned of terminal escape sequences. WaitFor, WaitForAny and
// WaitForFrom wait for a line matching a regexp, or for the line still being received once no
// byte came for PromptQuiet (a prompt), never for half of a line still arriving; they fail
// early when QEMU exits, and their errors carry the last TailLines lines and the log paths.
//
// BootMarkers is the one table of the lines that separate the boot phases: firmware (QEMU
// start → "Linux version"), kernel (→ the first "kiln-init: " line), init (→ "kiln-init:
// switching to systemd"), systemd (→ "Reached target multi-user.target", or Config.BootDone)
// and the total. VM.Timings computes them, FormatTimings prints the table, and Start logs it
// for every VM.
//
// # Stopping
//
// Powerdown presses the ACPI power button and waits for QEMU to exit; when the guest does not
// power off in time it falls back to QMP quit, then SIGKILL, and says so in its error. The
// guest must listen: Debian's kernel has the ACPI button driver as a module (button.ko, which
// udev loads by modalias), and systemd-logind turns the key into a power-off. Kill is
// the power cut: SIGKILL to QEMU's PID (through a pidfd, so never a process that reused the
// PID). Close stops QEMU if it still runs and releases everything. Killing QEMU hard can
// corrupt containerd's state in the guest: tests that boot a disk again power off first.
// QEMU runs in its own process group with the parent-death signal SIGKILL; nothing is ever
// stopped by name.
//
// # Network rules
//
// No VM may make this machine send traffic to an address outside loopback.
//
//   - UserNet is QEMU user networking (slirp) with restrict=on and ipv6=off, always. The
//     guest still gets a DHCP lease, 10.0.2.15/24, whose router is 10.0.2.2 and DNS server
//     10.0.2.3: slirp offers no way to leave the router out. That default route is a dead
//     end: with restrict=on slirp drops every guest packet except DHCP, TFTP and the
//     explicit guest forwards, so nothing leaves through it, not even to the host (10.0.2.2
//     does not reach the host's loopback). A guest that must have no default route at all
//     configures its address statically or ignores the DHCP router (systemd-networkd
//     UseGateway=no).
//   - Host forwards bind 127.0.0.1:HostPort only (QEMU's default would be every address).
//   - A user networking NIC carries QEMU's iPXE option ROM. Under OVMF with no bootable disk
//     first, iPXE tries to boot from the network and waits about 17 s for an IPv6 router that
//     ipv6=off never sends: put the boot disk first (bootindex=1 does) or expect the delay.
//   - Guest forwards (GuestAddr:GuestPort inside the guest → 127.0.0.1:HostPort) use slirp's
//     "cmd:" form: per guest connection slirp runs the test binary itself as a helper that
//     connects to 127.0.0.1:HostPort and copies both ways (see guestfwd.go). The chardev form
//     ("…-tcp:127.0.0.1:PORT") would connect once when QEMU starts, fail unless the server
//     already listens, and funnel every guest connection into that one stream.
//   - Links are VM-to-VM Ethernet over QEMU's dgram netdev, UDP datagrams on 127.0.0.1 with
//     fixed MACs: PointToPoint joins two VMs, a Hub in the test process joins more. The
//     guests' cluster addresses exist only on those links.
//
// # Tests
//
// RequireVM skips a test unless KILN_VM_TESTS=1 ("make test" sets it) and fails it when QEMU,
// qemu-img or OVMF are missing. Start launches a VM for a test and registers its end: on
// failure the console tail is logged and QEMU killed by PID; logs go to t.ArtifactDir(), kept
// with "go test -artifacts -outputdir DIR".
package harness
