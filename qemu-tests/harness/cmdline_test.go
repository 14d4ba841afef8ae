package harness

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestBuildArgs(t *testing.T) {
	files := vmFiles{serialSock: "/s/serial.sock", qmpSock: "/s/qmp.sock", vars: "/d/vm-OVMF_VARS.fd",
		disk: "/d/vm-overlay.qcow2", diskFormat: "qcow2", helper: "/bin/x,y.test", helperLog: "/l/g.log"}
	tests := []struct {
		name    string
		cfg     Config
		accel   string
		want    []string // consecutive argument pairs or single arguments, in order
		notWant []string // substrings no argument may contain
	}{{
		name:  "uefi disk defaults",
		cfg:   Config{Disk: "/img/node.raw"},
		accel: "tcg",
		want: []string{"-machine q35", "-accel tcg", "-cpu max", "-m 2048", "-smp 2", "-nodefaults",
			"-device virtio-rng-pci", "-chardev socket,id=serial0,path=/s/serial.sock", "-serial chardev:serial0",
			"-mon chardev=qmp0,mode=control", "-no-reboot",
			"-drive if=pflash,format=raw,unit=0,readonly=on,file=" + DefaultOVMFCode,
			"-drive if=pflash,format=raw,unit=1,file=/d/vm-OVMF_VARS.fd",
			"-drive file=/d/vm-overlay.qcow2,if=none,id=disk0,format=qcow2",
			"-device virtio-blk-pci,drive=disk0,bootindex=1"},
		notWant: []string{"-kernel", "netdev", "hostfwd"},
	}, {
		name:    "direct kernel boot through seabios, kvm",
		cfg:     Config{Kernel: "/k/vmlinuz", Initrd: "/k/initrd", Append: "console=ttyS0 panic=-1", AllowReboot: true, MemoryMiB: 512, CPUs: 1},
		accel:   "kvm",
		want:    []string{"-accel kvm", "-cpu host", "-m 512", "-smp 1", "-kernel /k/vmlinuz", "-initrd /k/initrd", "-append console=ttyS0 panic=-1"},
		notWant: []string{"pflash", "-no-reboot"},
	}, {
		name: "media, fw_cfg, networks",
		cfg: Config{
			CDROM:  "/i/node.iso",
			Drives: []Drive{{Path: "/i/config,2.iso", Media: "cdrom"}, {Path: "/i/data.qcow2", Format: "qcow2", ReadOnly: true, Serial: "data"}},
			FwCfg:  []FwCfg{{Name: "opt/com.coreos/config", File: "/c/node.ign"}, {Name: "opt/kiln/x", String: "a,b"}},
			UserNet: &UserNet{
				HostForwards:  []HostForward{{HostPort: 6443, GuestPort: 6443}, {HostPort: 5353, GuestPort: 53, UDP: true}},
				GuestForwards: []GuestForward{{GuestPort: 80, HostPort: 8080}, {GuestAddr: "10.0.2.101", GuestPort: 443, HostPort: 8443}},
				TFTP:          "/t", BootFile: "kiln.efi", NetBoot: true,
			},
			Links: []Link{{MAC: "52:54:00:00:00:02", LocalPort: 4000, RemotePort: 4001}},
		},
		accel: "tcg",
		want: []string{
			"-drive file=/i/node.iso,if=none,id=cdrom0,media=cdrom,readonly=on,format=raw",
			"-device ide-cd,drive=cdrom0,bus=ide.0,bootindex=2",
			"-drive file=/i/config,,2.iso,if=none,id=drive0,media=cdrom,readonly=on,format=raw",
			"-device ide-cd,drive=drive0,bus=ide.1",
			"-drive file=/i/data.qcow2,if=none,id=drive1,format=qcow2,readonly=on",
			"-device virtio-blk-pci,drive=drive1,serial=data",
			"-fw_cfg name=opt/com.coreos/config,file=/c/node.ign",
			"-fw_cfg name=opt/kiln/x,string=a,,b",
			"-netdev user,id=net0,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:6443-:6443,hostfwd=udp:127.0.0.1:5353-:53," +
				"guestfwd=tcp:10.0.2.100:80-cmd:'/bin/x,,y.test' " + guestFwdArg + " 127.0.0.1:8080 '/l/g.log'," +
				"guestfwd=tcp:10.0.2.101:443-cmd:'/bin/x,,y.test' " + guestFwdArg + " 127.0.0.1:8443 '/l/g.log',tftp=/t,bootfile=kiln.efi",
			"-device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,bootindex=0",
			"-netdev dgram,id=link0,local.type=inet,local.host=127.0.0.1,local.port=4000,remote.type=inet,remote.host=127.0.0.1,remote.port=4001",
			"-device virtio-net-pci,netdev=link0,mac=52:54:00:00:00:02",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			args := buildArgs(c, tt.accel, files)
			// Each wanted "-flag value" must follow the one before it as two consecutive
			// arguments; a wanted word without a space is one argument.
			joined := "\x00" + strings.Join(args, "\x00") + "\x00"
			pos := 0
			for _, w := range tt.want {
				needle := "\x00" + w + "\x00"
				if flag, value, ok := strings.Cut(w, " "); ok {
					needle = "\x00" + flag + "\x00" + value + "\x00"
				}
				i := strings.Index(joined[pos:], needle)
				if i < 0 {
					t.Errorf("want %q (after the previous wants) in\n%q", w, args)
					continue
				}
				pos += i + 1
			}
			for _, nw := range tt.notWant {
				if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, nw) }) {
					t.Errorf("unexpected %q in %q", nw, args)
				}
			}
		})
	}
}

func TestConfigInvalid(t *testing.T) {
	for name, c := range map[string]Config{
		"name":              {Name: "a b"},
		"initrd, no kernel": {Initrd: "/x"},
		"overlay, no disk":  {Overlay: true},
		"accel":             {Accel: "hvf"},
		"firmware":          {Firmware: "coreboot"},
		"nice":              {Nice: 20},
		"fw_cfg both":       {FwCfg: []FwCfg{{Name: "opt/x", File: "/f", String: "s"}}},
		"drive media":       {Drives: []Drive{{Path: "/x", Media: "floppy"}}},
		"hostfwd port":      {UserNet: &UserNet{HostForwards: []HostForward{{GuestPort: 22}}}},
		"guestfwd outside":  {UserNet: &UserNet{GuestForwards: []GuestForward{{GuestAddr: "192.168.1.1", GuestPort: 80, HostPort: 80}}}},
		"link mac":          {Links: []Link{{MAC: "01:00:5e:00:00:01", LocalPort: 1, RemotePort: 2}}},
		"link port":         {Links: []Link{{MAC: "52:54:00:00:00:01", LocalPort: 1}}},
	} {
		if _, err := c.withDefaults(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: got %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestFirmwareDefault(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want Firmware
	}{
		{Config{}, FirmwareUEFI},
		{Config{Kernel: "/k"}, FirmwareBIOS},
		{Config{Kernel: "/k", Firmware: FirmwareUEFI}, FirmwareUEFI},
	} {
		c, err := tt.cfg.withDefaults()
		if err != nil || c.Firmware != tt.want {
			t.Errorf("%+v: firmware %q (%v), want %q", tt.cfg, c.Firmware, err, tt.want)
		}
	}
}

// The marker table must match the lines kiln-init and systemd 252 print.
func TestBootMarkers(t *testing.T) {
	for _, tt := range []struct {
		re   *regexp.Regexp
		line string
	}{
		{MarkerKernel, "[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)"},
		{MarkerInit, "kiln-init: loading 12 modules"},
		{MarkerSystemd, "kiln-init: switching to systemd"},
		{MarkerMultiUser, "[  OK  ] Reached target multi-user.target - Multi-User System."},
		{MarkerMultiUser, "[  OK  ] Reached target Multi-User System."},
	} {
		if !tt.re.MatchString(tt.line) {
			t.Errorf("%s does not match %q", tt.re, tt.line)
		}
	}
}

func TestProcessArgv(t *testing.T) {
	args := []string{"-m", "512"}
	if program, argv := processArgv(Config{QEMU: "qemu"}, args); program != "qemu" || !slices.Equal(argv, args) {
		t.Errorf("nice 0: %s %q, want qemu itself", program, argv)
	}
	program, argv := processArgv(Config{QEMU: "qemu", Nice: NiceBackground}, args)
	if want := []string{"-n", "10", "qemu", "-m", "512"}; program != "nice" || !slices.Equal(argv, want) {
		t.Errorf("nice 10: %s %q, want nice %q", program, argv, want)
	}
}
