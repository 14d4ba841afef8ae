package earlyboot

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseCmdline(t *testing.T) {
	def := Cmdline{RootTimeout: DefaultRootTimeout, Init: DefaultInit}
	for _, tc := range []struct {
		name, in string
		want     func(c *Cmdline)
	}{
		{"empty", "", func(*Cmdline) {}},
		{"typical", "BOOT_IMAGE=/kiln/vmlinuz console=ttyS0 tsc=reliable systemd.gpt_auto=0 kiln.poweroff_on_failure\n",
			func(c *Cmdline) { c.Poweroff = true }},
		{"ignition", "ignition.config.url=http://10.0.2.2:8080/node.ign ignition.platform.id=qemu kiln.debug",
			func(c *Cmdline) {
				c.IgnitionURL, c.IgnitionPlatform, c.Debug = "http://10.0.2.2:8080/node.ign", "qemu", true
			}},
		{"device and path", "ignition.config.device=CONFIG ignition.config.path=/ign/config.ign",
			func(c *Cmdline) { c.IgnitionDevice, c.IgnitionPath = "CONFIG", "/ign/config.ign" }},
		{"data url keeps equals signs", "ignition.config.url=data:,a=b",
			func(c *Cmdline) { c.IgnitionURL = "data:,a=b" }},
		{"quotes", `kiln.debug "ignition.config.url=data:,hello world" x="a b"`,
			func(c *Cmdline) { c.Debug, c.IgnitionURL = true, "data:,hello world" }},
		{"flag values, last wins", "kiln.debug=on kiln.poweroff_on_failure=yes kiln.debug=0",
			func(c *Cmdline) { c.Poweroff = true }},
		{"root timeout", "kiln.root_timeout=90", func(c *Cmdline) { c.RootTimeout = 90 * time.Second }},
		{"pxe", "kiln.root.url=http://x/root.squashfs kiln.root.sha256=abc",
			func(c *Cmdline) { c.RootURL, c.RootSHA256 = "http://x/root.squashfs", "abc" }},
		{"init", "init=/bin/sh", func(c *Cmdline) { c.Init = "/bin/sh" }},
		{"ip=dhcp", "ip=dhcp", func(*Cmdline) {}},
		{"ip=IFACE:dhcp", "ip=ens3:dhcp", func(c *Cmdline) { c.Net.Iface = "ens3" }},
		{"ip=off", "ip=off", func(c *Cmdline) { c.Net.Off = true }},
		{"no gateway", "kiln.net.gateway=off", func(c *Cmdline) { c.NoGateway = true }},
		{"gateway on", "kiln.net.gateway=off kiln.net.gateway", func(*Cmdline) {}},
		{"after -- belongs to init", "kiln.debug -- kiln.poweroff_on_failure", func(c *Cmdline) { c.Debug = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCmdline(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := def
			tc.want(&want)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Cmdline{}, "Words")); diff != "" {
				t.Errorf("ParseCmdline(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseCmdlineErrors(t *testing.T) {
	for _, in := range []string{
		"kiln.debug=maybe",
		"kiln.poweroff_on_failure=2",
		"kiln.root_timeout=soon",
		"kiln.root_timeout=0",
		"kiln.root_timeout=99999",
		"init=sbin/init",
		"ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off",
		"ip=eth0:off",
		"ip=:dhcp",
		"ip=dhcp6",
		"kiln.net.gateway=maybe",
	} {
		if _, err := ParseCmdline(in); !errors.Is(err, ErrInvalidCmdline) {
			t.Errorf("ParseCmdline(%q) = %v, want ErrInvalidCmdline", in, err)
		}
	}
}

func TestSplitCmdline(t *testing.T) {
	for in, want := range map[string][]string{
		"":                       nil,
		"  a  b\tc\n":            {"a", "b", "c"},
		`a="b c" "d e"`:          {"a=b c", "d e"},
		`x=""`:                   {"x="},
		`unterminated="a b`:      {"unterminated=a b"},
		"dyndbg=\"file x +p\" y": {"dyndbg=file x +p", "y"},
	} {
		if diff := cmp.Diff(want, splitCmdline(in)); diff != "" {
			t.Errorf("splitCmdline(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestIgnitionCmdline(t *testing.T) {
	c, err := ParseCmdline("console=ttyS0 ignition.config.device=CFG ignition.config.path=/c.ign ignition.platform.id=qemu")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ignitionCmdline(), "console=ttyS0 ignition.platform.id=qemu\n"; got != want {
		t.Errorf("ignitionCmdline() = %q, want %q", got, want)
	}
}

func TestCmdlineHas(t *testing.T) {
	c, _ := ParseCmdline("console=ttyS0 systemd.firstboot=off quiet")
	for key, want := range map[string]bool{"systemd.firstboot": true, "quiet": true, "console": true, "systemd": false, "ttyS0": false} {
		if got := c.Has(key); got != want {
			t.Errorf("Has(%q) = %v, want %v", key, got, want)
		}
	}
}
