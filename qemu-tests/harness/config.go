package harness

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"time"
)

// Default paths of the tools and firmware (Debian's qemu-system-x86, qemu-utils and ovmf).
const (
	DefaultQEMU       = "qemu-system-x86_64"
	DefaultQEMUImg    = "qemu-img"
	DefaultOVMFCode   = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	DefaultOVMFVars   = "/usr/share/OVMF/OVMF_VARS_4M.fd"
	DefaultMemoryMiB  = 2048
	DefaultCPUs       = 2
	DefaultGuestFwdIP = "10.0.2.100"
	// NiceBackground is Config.Nice for a VM that should leave the host's cores to a control
	// plane booting beside it: at nice 10 a busy thread gets about a tenth of a contested core.
	NiceBackground = 10
	// defaultUserNet is slirp's own default network.
	defaultUserNet = "10.0.2.0/24"
)

// ErrInvalidConfig marks a Config that cannot become a QEMU command line.
var ErrInvalidConfig = errors.New("invalid vm config")

// Firmware selects how the VM boots.
type Firmware string

const (
	// FirmwareAuto is UEFI, or SeaBIOS when Config.Kernel is set (a direct kernel boot that
	// bypasses the firmware is fastest through SeaBIOS' linuxboot option ROM).
	FirmwareAuto Firmware = ""
	// FirmwareUEFI boots OVMF from pflash, with a VARS file of this VM.
	FirmwareUEFI Firmware = "uefi"
	// FirmwareBIOS is QEMU's built-in SeaBIOS.
	FirmwareBIOS Firmware = "bios"
)

// Config describes one VM. The zero value of every field but Name has a working default.
type Config struct {
	// Name names the VM in logs, timings and file names. Default "vm".
	Name string
	// Dir holds the VM's files: the console log, QEMU's own log, the OVMF VARS copy and disk
	// overlays. Start uses t.ArtifactDir() for logs and t.TempDir() for the rest; Launch
	// creates a temporary directory when Dir is empty.
	Dir string
	// LogDir holds the console log (NAME-console.log) and QEMU's output (NAME-qemu.log).
	// Default Dir.
	LogDir string

	// Disk is the boot disk, attached as virtio-blk with bootindex=1. Empty: no disk.
	Disk string
	// DiskFormat is Disk's format: "raw" (default) or "qcow2".
	DiskFormat string
	// Overlay boots from a fresh qcow2 overlay on top of Disk (created in Dir) instead of Disk
	// itself, so a test never modifies a built image. OverlaySize, when larger than Disk, makes
	// the guest see a bigger disk (0: the size of Disk).
	Overlay     bool
	OverlaySize int64
	// CDROM is an ISO attached as an IDE CD-ROM on q35's AHCI controller, bootindex=2 (so it
	// boots when there is no Disk).
	CDROM string
	// Drives are further drives without a boot index, such as a config drive ISO.
	Drives []Drive

	// MemoryMiB defaults to 2048, CPUs to 2.
	MemoryMiB int
	CPUs      int
	// Accel is "tcg" or "kvm"; empty means DetectAccel().
	Accel string
	// Nice lowers QEMU's CPU priority: 0 (default) leaves it as the test's, 1 to 19 runs QEMU
	// under nice(1). Under TCG every vCPU is a busy host thread, so on a small host a VM that
	// can wait (a worker) should yield to a control plane whose API server is killed by its
	// own probes when starved; NiceBackground is the value for those VMs.
	Nice int

	// Firmware: see FirmwareAuto.
	Firmware Firmware
	// OVMFCode and OVMFVarsTemplate default to Debian's 4 MiB OVMF build. The template is
	// copied into Dir for every VM unless UEFIVars is set.
	OVMFCode, OVMFVarsTemplate string
	// UEFIVars, when set, is used as the writable VARS pflash as it is, so NVRAM persists from
	// one VM to the next (a second boot of the same disk): pass VM.UEFIVars() of the first VM.
	UEFIVars string

	// Kernel, Initrd and Append make a direct kernel boot (-kernel, -initrd, -append).
	Kernel, Initrd, Append string

	// FwCfg entries are exposed to the guest as QEMU fw_cfg files.
	FwCfg []FwCfg

	// UserNet, when set, adds a virtio-net NIC on QEMU user networking with restrict=on.
	UserNet *UserNet
	// Links add virtio-net NICs on 127.0.0.1 UDP datagram links, after the UserNet NIC.
	Links []Link

	// AllowReboot keeps QEMU running when the guest reboots. By default a guest reboot (and
	// so a kernel panic with panic=-1) ends QEMU, like a power-off.
	AllowReboot bool

	// BootDone is the console line that ends the "systemd" boot phase. Default: systemd
	// reaching multi-user.target (MarkerMultiUser).
	BootDone *regexp.Regexp

	// QEMU and QEMUImg are the binaries; defaults DefaultQEMU and DefaultQEMUImg from PATH.
	QEMU, QEMUImg string
	// ExtraArgs are appended to the command line as they are.
	ExtraArgs []string
	// StartTimeout bounds how long QEMU may take to connect its serial console and QMP
	// sockets. Default DefaultStartTimeout.
	StartTimeout time.Duration
}

// Drive is an extra drive.
type Drive struct {
	Path string
	// Format is "raw" (default) or "qcow2".
	Format string
	// Media "cdrom" attaches an IDE CD-ROM (read-only); "disk" (default) a virtio-blk disk.
	Media string
	// ReadOnly attaches a disk read-only.
	ReadOnly bool
	// Serial is the virtio-blk serial the guest sees under /dev/disk/by-id/virtio-SERIAL.
	Serial string
}

// FwCfg is one fw_cfg file: Name (such as "opt/com.coreos/config", which Ignition reads) and
// the content, either from the host file File or the string String.
type FwCfg struct {
	Name, File, String string
}

// UserNet is QEMU user networking (slirp), always with restrict=on and ipv6=off: the guest
// reaches nothing but the explicit forwards, see the package documentation.
type UserNet struct {
	// MAC of the NIC; default 52:54:00:12:34:56.
	MAC string
	// HostForwards make 127.0.0.1:HostPort on the host reach GuestPort of the guest.
	HostForwards []HostForward
	// GuestForwards make GuestAddr:GuestPort inside the guest reach 127.0.0.1:HostPort.
	GuestForwards []GuestForward
	// Net is the virtual network (slirp's net=), default 10.0.2.0/24. A guest forward's
	// address must lie inside it: 169.254.0.0/16 puts a cloud's metadata address
	// 169.254.169.254 on the guest's own link.
	Net string
	// TFTP is a host directory slirp serves over TFTP; BootFile the DHCP boot file name.
	TFTP, BootFile string
	// NetBoot makes the firmware boot from this NIC first (bootindex=0): its iPXE option ROM
	// gets an address by DHCP and runs BootFile from TFTP.
	NetBoot bool
}

// HostForward forwards TCP (UDP when UDP is set) from 127.0.0.1:HostPort to the guest's
// GuestPort on its DHCP address 10.0.2.15.
type HostForward struct {
	HostPort, GuestPort int
	UDP                 bool
}

// GuestForward forwards TCP connections of the guest to GuestAddr:GuestPort (GuestAddr
// default DefaultGuestFwdIP, inside 10.0.2.0/24) to 127.0.0.1:HostPort, one host connection
// per guest connection.
type GuestForward struct {
	GuestAddr string
	GuestPort int
	HostPort  int
}

// Link is a NIC on an Ethernet carried in UDP datagrams on 127.0.0.1 (QEMU's dgram netdev):
// QEMU receives frames on LocalPort and sends them to RemotePort. Two Links with swapped
// ports connect two VMs (PointToPoint); Hub.Link connects many.
type Link struct {
	MAC                   string
	LocalPort, RemotePort int
}

// withDefaults returns a copy of c with the defaults filled in, or an ErrInvalidConfig error.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = "vm"
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_.-]+$`).MatchString(c.Name) {
		return c, fmt.Errorf("%w: name %q: want letters, digits, '.', '_' or '-'", ErrInvalidConfig, c.Name)
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = DefaultMemoryMiB
	}
	if c.CPUs == 0 {
		c.CPUs = DefaultCPUs
	}
	if c.MemoryMiB < 0 || c.CPUs < 0 {
		return c, fmt.Errorf("%w: memory %d MiB, %d cpus", ErrInvalidConfig, c.MemoryMiB, c.CPUs)
	}
	if c.Nice < 0 || c.Nice > 19 {
		return c, fmt.Errorf("%w: nice %d: want 0 to 19", ErrInvalidConfig, c.Nice)
	}
	if c.Firmware == FirmwareAuto {
		c.Firmware = FirmwareUEFI
		if c.Kernel != "" {
			c.Firmware = FirmwareBIOS
		}
	}
	if c.Firmware != FirmwareUEFI && c.Firmware != FirmwareBIOS {
		return c, fmt.Errorf("%w: firmware %q", ErrInvalidConfig, c.Firmware)
	}
	c.OVMFCode = orDefault(c.OVMFCode, DefaultOVMFCode)
	c.OVMFVarsTemplate = orDefault(c.OVMFVarsTemplate, DefaultOVMFVars)
	c.QEMU = orDefault(c.QEMU, DefaultQEMU)
	c.QEMUImg = orDefault(c.QEMUImg, DefaultQEMUImg)
	c.DiskFormat = orDefault(c.DiskFormat, "raw")
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if (c.Initrd != "" || c.Append != "") && c.Kernel == "" {
		return c, fmt.Errorf("%w: initrd or append without a kernel", ErrInvalidConfig)
	}
	if c.Overlay && c.Disk == "" {
		return c, fmt.Errorf("%w: overlay without a disk", ErrInvalidConfig)
	}
	if c.Accel != "" && c.Accel != "tcg" && c.Accel != "kvm" {
		return c, fmt.Errorf("%w: accel %q: want tcg or kvm", ErrInvalidConfig, c.Accel)
	}
	for _, f := range c.FwCfg {
		if f.Name == "" || (f.File == "") == (f.String == "") {
			return c, fmt.Errorf("%w: fw_cfg %q: want a name and either a file or a string", ErrInvalidConfig, f.Name)
		}
	}
	for _, d := range c.Drives {
		if d.Path == "" || (d.Media != "" && d.Media != "disk" && d.Media != "cdrom") {
			return c, fmt.Errorf("%w: drive %q with media %q", ErrInvalidConfig, d.Path, d.Media)
		}
	}
	if err := c.UserNet.check(); err != nil {
		return c, err
	}
	for _, l := range c.Links {
		if err := checkMAC(l.MAC); err != nil {
			return c, err
		}
		if !validPort(l.LocalPort) || !validPort(l.RemotePort) {
			return c, fmt.Errorf("%w: link %s: ports %d -> %d", ErrInvalidConfig, l.MAC, l.LocalPort, l.RemotePort)
		}
	}
	return c, nil
}

// check validates the forwards: every port set, guest forward addresses inside the user
// network (default 10.0.2.0/24).
func (u *UserNet) check() error {
	if u == nil {
		return nil
	}
	if u.MAC != "" {
		if err := checkMAC(u.MAC); err != nil {
			return err
		}
	}
	for _, f := range u.HostForwards {
		if !validPort(f.HostPort) || !validPort(f.GuestPort) {
			return fmt.Errorf("%w: host forward %d -> %d", ErrInvalidConfig, f.HostPort, f.GuestPort)
		}
	}
	netStr := orDefault(u.Net, defaultUserNet)
	_, slirpNet, err := net.ParseCIDR(netStr)
	if err != nil || slirpNet.IP.To4() == nil {
		return fmt.Errorf("%w: user network %q: want an IPv4 CIDR such as %s", ErrInvalidConfig, u.Net, defaultUserNet)
	}
	for _, f := range u.GuestForwards {
		ip := net.ParseIP(orDefault(f.GuestAddr, DefaultGuestFwdIP)).To4()
		if ip == nil || !slirpNet.Contains(ip) || !validPort(f.GuestPort) || !validPort(f.HostPort) {
			return fmt.Errorf("%w: guest forward %s:%d -> 127.0.0.1:%d: want an address in %s and ports",
				ErrInvalidConfig, f.GuestAddr, f.GuestPort, f.HostPort, netStr)
		}
	}
	return nil
}

func checkMAC(mac string) error {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("%w: mac %q", ErrInvalidConfig, mac)
	}
	if hw[0]&1 != 0 {
		return fmt.Errorf("%w: mac %q is a multicast address", ErrInvalidConfig, mac)
	}
	return nil
}

func validPort(p int) bool { return p > 0 && p < 65536 }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
