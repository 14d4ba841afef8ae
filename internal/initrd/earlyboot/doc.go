// Package earlyboot is kiln-init, PID 1 of a kiln node's initramfs: it finds the read-only root,
// makes /etc and /var writable and persistent, runs Ignition on the first boot and hands over to
// systemd. Main runs these steps, in order:
//
//  1. mount devtmpfs on /dev, proc, sysfs and a tmpfs on /run; point stdio at /dev/console; copy
//     every console line to RunLog (/run/kiln/init.log, which stays in the booted system's /run).
//  2. load the kernel modules listed in bootmedia.InitramfsModuleList with finit_module (EEXIST is fine, ENODEV
//     skips a driver without hardware); wait (kiln.root_timeout, DefaultRootTimeout) for a GPT
//     partition named KILN-ROOT (PARTNAME in /sys/class/block/*/uevent) or a device holding an
//     ISO 9660 volume labelled KILN. With kiln.root.url (PXE) instead: bring up the network,
//     download the root squashfs into RAM and check kiln.root.sha256 (see netroot.go).
//  3. mount the root squashfs read-only at /sysroot: the partition, or kiln/root.squashfs of the
//     ISO through a loop device (LOOP_CONFIGURE).
//  4. VAR, the partition KILN-VAR on the root's disk: when the disk was enlarged, move the backup
//     GPT to its end, grow VAR (the last partition) up to the last MiB boundary and tell the
//     kernel (BLKPG_RESIZE_PARTITION); without a filesystem (first boot) format it with
//     mke2fs -t ext4 -L KILN-VAR, with ext4 run e2fsck -p, with anything else stop rather than
//     format. Mount it, run resize2fs (online) when the partition outgrew the ext4, and copy the
//     root image's /var into it (owners, modes, times, links, xattrs) until PopulatedStamp says
//     a boot finished that. From the ISO or over the network, /var is a tmpfs and nothing
//     persists.
//  5. move VAR to /sysroot/var; mount an overlay on /sysroot/etc (lower: the image's /etc,
//     upper and work directories on VAR) and a tmpfs on /sysroot/tmp. /var/lib/containerd and
//     /var/lib/kubelet are thus plain ext4 directories (containerd's overlayfs snapshotter cannot
//     sit on an overlay).
//  6. first boot only (no IgnitionStamp): bring up the network when ignition.config.url needs it
//     (see below), then run the real Ignition, stages fetch and files, with --root=/sysroot;
//     see ignition.MakePlan for the config sources, ignition.DetectPlatform for the platform
//     and package contract/platform for what each platform needs. No config: boot on. A
//     failed Ignition, or a config using storage.disks, raid, filesystems, luks or
//     kernelArguments, stops the boot (fail closed). Then write the stamp.
//     An empty /etc/machine-id (as the image has it) becomes "uninitialized": systemd 252 takes
//     only that, or a missing file, for a first boot (an empty file is not enough; measured), and
//     only then applies the presets Ignition wrote, so the units it enabled start in this same
//     boot, and commits a fresh machine ID. The interactive systemd-firstboot.service, which
//     that first boot would start and which waits for a key press on the console, is masked for
//     this boot only (/run/systemd/system) unless systemd.firstboot= is on the command line.
//  7. switch_root: move /dev, /proc, /sys and /run into /sysroot, delete the initramfs's files,
//     move /sysroot onto /, chroot and execute init= (DefaultInit, systemd).
//
// The layout on VAR, as the booted system sees it:
//
//	/var/.kiln/                  0700 root: kiln-init's state
//	/var/.kiln/etc-upper/        the overlay's upper layer: everything changed in /etc
//	/var/.kiln/etc-work/         the overlay's work directory
//	/var/.kiln/var-populated     the image's /var was copied (a rerun after power loss copies again)
//	/var/.kiln/ignition-done     Ignition ran, or found no config: time, result, source, platform
//	/var/…                       everything else: the image's /var, then the node's own data
//
// Every step prints one line to the console, "kiln-init: " and what happened, with the seconds
// since kiln-init started; the markers of package contract/console are the lines a harness waits
// for. Ignition's
// own lines follow as "ignition: …" (without DEBUG lines unless kiln.debug, never the full config
// it dumps on failure, which may hold private keys). On any failure kiln-init prints
// "kiln-init: FATAL: what failed: why; stopping" and halts there, or powers off with
// kiln.poweroff_on_failure on the command line: never a silent hang (every wait has a timeout),
// never a half-booted node.
//
// Ignition finds its config in its own order: ignition.config.url first (any platform), then the
// system config /run/ignition/user.ign, then the platform. kiln-init uses the middle one for what
// Ignition could only read with udev and mount(8), which the initramfs lacks: the file named by
// ignition.config.device and ignition.config.path, and config drives (ISO 9660 or FAT labelled
// config-2 or cidata: openstack/latest/user_data, user-data). The platform is
// ignition.platform.id when given, qemu when /sys/firmware/qemu_fw_cfg exists (its provider reads
// fw_cfg opt/com.coreos/config), else metal; both fetch ignition.config.url first.
//
// When ignition.config.url needs the network (http, https, tftp, s3, gs, arn), kiln-init brings
// it up first (netup.go; DHCP in package dhcp, addresses and routes in package netlink): every physical interface, or the one of ip=IFACE:dhcp, goes up; it
// waits for carrier (DefaultCarrierTimeout) and runs the DHCPv4 client of package dhcp on
// each (DefaultDHCPTimeout; 5 s more for the rest once one has a lease), sets the
// leased address and the default route (rtnetlink; kiln.net.gateway=off leaves the route out)
// and writes the DNS servers to the initramfs's /etc/resolv.conf for Ignition, which then
// fetches the URL itself; before switch_root it sets the interfaces down again, so that udev
// can rename them. One line per
// interface: "kiln-init: network: eth0 10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3, …". No lease on
// any interface stops the boot. ip=off brings up nothing. The same happens for a platform with
// a metadata service (ignition.platform.id=aws, openstack, ...; the table in package
// contract/platform says which): its Ignition provider then fetches the config from the
// service. vmware, virtualbox and file read their config without a network. The address and route stay on the interface after
// switch_root until the booted system's systemd-networkd takes the interface over.
//
// kiln-init's other packages, one concern each: ignition (the config source, Ignition's run),
// blockdev (sysfs block devices, filesystem
// signatures, growing the GPT, loop devices), dhcp (the DHCPv4 client) and netlink (links,
// addresses, routes). What the build writes and kiln-init reads (partition names, the ISO's
// paths, the module list, kernel parameters, console markers, the platform table) is defined
// once in the packages under internal/contract. Its waits use common/poll, its atomic writes
// common/atomicfile.
package earlyboot
