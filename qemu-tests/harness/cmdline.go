package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// vmFiles are the files of one VM its command line names.
type vmFiles struct {
	serialSock, qmpSock string
	vars                string // writable OVMF VARS (UEFI only)
	disk, diskFormat    string // the boot disk as attached: Disk or its overlay
	helper, helperLog   string // executable that guest forwards run (see guestfwd.go), its log
}

// processArgv is the program and arguments that run QEMU with args: QEMU itself, or nice(1)
// running it when c.Nice is set, so every thread QEMU starts inherits the lower priority.
func processArgv(c Config, args []string) (string, []string) {
	if c.Nice == 0 {
		return c.QEMU, args
	}
	return "nice", append([]string{"-n", strconv.Itoa(c.Nice), c.QEMU}, args...)
}

// buildArgs returns QEMU's arguments for c, which has its defaults filled in.
func buildArgs(c Config, accel string, f vmFiles) []string {
	a := []string{
		"-name", opt(c.Name),
		"-machine", "q35",
		"-accel", accel,
		"-cpu", cpuFor(accel),
		"-m", strconv.Itoa(c.MemoryMiB),
		"-smp", strconv.Itoa(c.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none",
		"-device", "virtio-rng-pci",
		"-chardev", "socket,id=serial0,path=" + opt(f.serialSock),
		"-serial", "chardev:serial0",
		"-chardev", "socket,id=qmp0,path=" + opt(f.qmpSock),
		"-mon", "chardev=qmp0,mode=control",
	}
	if !c.AllowReboot {
		a = append(a, "-no-reboot")
	}
	if c.Firmware == FirmwareUEFI {
		a = append(a,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+opt(c.OVMFCode),
			"-drive", "if=pflash,format=raw,unit=1,file="+opt(f.vars))
	}
	if c.Kernel != "" {
		a = append(a, "-kernel", c.Kernel)
		if c.Initrd != "" {
			a = append(a, "-initrd", c.Initrd)
		}
		if c.Append != "" {
			a = append(a, "-append", c.Append)
		}
	}
	if f.disk != "" {
		a = append(a,
			"-drive", fmt.Sprintf("file=%s,if=none,id=disk0,format=%s", opt(f.disk), f.diskFormat),
			"-device", "virtio-blk-pci,drive=disk0,bootindex=1")
	}
	ide := 0 // q35's AHCI controller has the buses ide.0 … ide.5
	if c.CDROM != "" {
		a = append(a,
			"-drive", fmt.Sprintf("file=%s,if=none,id=cdrom0,media=cdrom,readonly=on,format=raw", opt(c.CDROM)),
			"-device", fmt.Sprintf("ide-cd,drive=cdrom0,bus=ide.%d,bootindex=2", ide))
		ide++
	}
	for i, d := range c.Drives {
		id := fmt.Sprintf("drive%d", i)
		format := orDefault(d.Format, "raw")
		if d.Media == "cdrom" {
			a = append(a,
				"-drive", fmt.Sprintf("file=%s,if=none,id=%s,media=cdrom,readonly=on,format=%s", opt(d.Path), id, format),
				"-device", fmt.Sprintf("ide-cd,drive=%s,bus=ide.%d", id, ide))
			ide++
			continue
		}
		drive := fmt.Sprintf("file=%s,if=none,id=%s,format=%s", opt(d.Path), id, format)
		if d.ReadOnly {
			drive += ",readonly=on"
		}
		dev := "virtio-blk-pci,drive=" + id
		if d.Serial != "" {
			dev += ",serial=" + opt(d.Serial)
		}
		a = append(a, "-drive", drive, "-device", dev)
	}
	for _, fw := range c.FwCfg {
		if fw.File != "" {
			a = append(a, "-fw_cfg", "name="+opt(fw.Name)+",file="+opt(fw.File))
		} else {
			a = append(a, "-fw_cfg", "name="+opt(fw.Name)+",string="+opt(fw.String))
		}
	}
	if c.UserNet != nil {
		nic := "virtio-net-pci,netdev=net0,mac=" + orDefault(c.UserNet.MAC, "52:54:00:12:34:56")
		if c.UserNet.NetBoot {
			nic += ",bootindex=0"
		}
		a = append(a, "-netdev", userNetdev(c.UserNet, f.helper, f.helperLog), "-device", nic)
	}
	for i, l := range c.Links {
		id := fmt.Sprintf("link%d", i)
		a = append(a,
			"-netdev", fmt.Sprintf("dgram,id=%s,local.type=inet,local.host=127.0.0.1,local.port=%d,"+
				"remote.type=inet,remote.host=127.0.0.1,remote.port=%d", id, l.LocalPort, l.RemotePort),
			"-device", fmt.Sprintf("virtio-net-pci,netdev=%s,mac=%s", id, l.MAC))
	}
	return append(a, c.ExtraArgs...)
}

// userNetdev is the -netdev value of u: restrict=on and ipv6=off always, host forwards bound
// to 127.0.0.1, guest forwards running helper once per connection.
func userNetdev(u *UserNet, helper, helperLog string) string {
	parts := []string{"user", "id=net0", "restrict=on", "ipv6=off"}
	if u.Net != "" {
		parts = append(parts, "net="+opt(u.Net))
	}
	for _, f := range u.HostForwards {
		proto := "tcp"
		if f.UDP {
			proto = "udp"
		}
		parts = append(parts, fmt.Sprintf("hostfwd=%s:127.0.0.1:%d-:%d", proto, f.HostPort, f.GuestPort))
	}
	for _, f := range u.GuestForwards {
		addr := orDefault(f.GuestAddr, DefaultGuestFwdIP)
		parts = append(parts, fmt.Sprintf("guestfwd=tcp:%s:%d-cmd:%s", addr, f.GuestPort,
			opt(guestFwdCommand(helper, f.HostPort, helperLog))))
	}
	if u.TFTP != "" {
		parts = append(parts, "tftp="+opt(u.TFTP))
	}
	if u.BootFile != "" {
		parts = append(parts, "bootfile="+opt(u.BootFile))
	}
	return strings.Join(parts, ",")
}

// cpuFor is the CPU model for an accelerator: everything TCG emulates, or the host's CPU.
func cpuFor(accel string) string {
	if accel == "kvm" {
		return "host"
	}
	return "max"
}

// opt escapes a value inside a QEMU option string, where a comma separates options and two
// commas stand for one.
func opt(s string) string {
	return strings.ReplaceAll(s, ",", ",,")
}

// shellQuote quotes s for the shell-like argument parsing of slirp's cmd: forwards.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
