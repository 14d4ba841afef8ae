package earlyboot

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestNetworkReason(t *testing.T) {
	for url, want := range map[string]bool{
		"":                                 false,
		"http://10.0.2.100/config.ign":     true,
		"https://example.com/node.ign":     true,
		"tftp://10.0.2.2/node.ign":         true,
		"s3://bucket/node.ign":             true,
		"data:,{}":                         false,
		"file:///x.ign":                    false,
		"://bad":                           false, // planIgnition reports it
		"HTTP://10.0.2.100/upper-case.ign": true,
	} {
		if got := networkReason(Cmdline{IgnitionURL: url}) != ""; got != want {
			t.Errorf("networkReason(%q) needs the network: %v, want %v", url, got, want)
		}
	}
	// Platforms with a metadata service need the network; those without do not. A URL wins
	// over the platform, as in Ignition.
	for platform, want := range map[string]bool{"aws": true, "openstack": true, "gcp": true, "metal": false, "qemu": false, "vmware": false} {
		if got := networkReason(Cmdline{IgnitionPlatform: platform}) != ""; got != want {
			t.Errorf("platform %s needs the network: %v, want %v", platform, got, want)
		}
	}
	if r := networkReason(Cmdline{IgnitionPlatform: "aws", IgnitionURL: "data:,{}"}); r != "" {
		t.Errorf("a data: URL on aws needs the network: %q", r)
	}
}

func TestParseIP(t *testing.T) {
	for in, want := range map[string]netSpec{
		"dhcp":      {},
		"on":        {},
		"any":       {},
		"off":       {Off: true},
		"none":      {Off: true},
		"eth1:dhcp": {Iface: "eth1"},
	} {
		got, err := parseIP(in)
		if err != nil || got != want {
			t.Errorf("parseIP(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "dhcp6", "auto6", "eth0:off", ":dhcp", "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"} {
		if _, err := parseIP(in); err == nil {
			t.Errorf("parseIP(%q) succeeded", in)
		}
	}
}

func TestPhysicalInterfaces(t *testing.T) {
	sys := t.TempDir()
	for name, dev := range map[string]bool{"lo": false, "eth1": true, "eth0": true, "br0": false, "ens3": true} {
		dir := filepath.Join(sys, "class", "net", name)
		writeFile(t, filepath.Join(dir, "carrier"), "1\n")
		if dev {
			if err := os.Symlink("../../../devices/pci0000:00/virtio0", filepath.Join(dir, "device")); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(sys, "devices", "pci0000:00", "virtio0"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := physicalInterfaces(sys, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ens3", "eth0", "eth1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, _ := physicalInterfaces(sys, "eth1"); !cmp.Equal(got, []string{"eth1"}) {
		t.Errorf("only eth1: %v", got)
	}
	if got, _ := physicalInterfaces(sys, "br0"); len(got) != 0 {
		t.Errorf("a bridge counted as physical: %v", got)
	}
	writeFile(t, filepath.Join(sys, "class", "net", "eth1", "carrier"), "0\n")
	if !hasCarrier(sys, "eth0") || hasCarrier(sys, "eth1") || hasCarrier(sys, "eth9") {
		t.Error("hasCarrier")
	}
}

func TestWriteResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "etc", "resolv.conf")
	if err := writeResolvConf(p, []netip.Addr{netip.MustParseAddr("10.0.2.3"), netip.MustParseAddr("1.1.1.1")}, "cluster.example"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "# written by kiln-init from DHCP\nsearch cluster.example\nnameserver 10.0.2.3\nnameserver 1.1.1.1\n"
	if string(data) != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", data, want)
	}
}

// nlAttrs splits a netlink message after its fixed header of fixed bytes into attributes.
func nlAttrs(t *testing.T, msg []byte, fixed int) map[uint16][]byte {
	t.Helper()
	if got := binary.NativeEndian.Uint32(msg); int(got) != len(msg) {
		t.Fatalf("nlmsg_len %d, message %d bytes", got, len(msg))
	}
	out := map[uint16][]byte{}
	b := msg[unix.SizeofNlMsghdr+fixed:]
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		out[binary.NativeEndian.Uint16(b[2:])] = b[4:l]
		b = b[(l+3)&^3:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes left after the attributes", len(b))
	}
	return out
}

func TestNetlinkMessages(t *testing.T) {
	addr := newAddrMsg(1, 2, netip.MustParsePrefix("10.0.2.15/24"))
	if typ := binary.NativeEndian.Uint16(addr[4:]); typ != unix.RTM_NEWADDR {
		t.Errorf("type %d", typ)
	}
	if flags := binary.NativeEndian.Uint16(addr[6:]); flags&unix.NLM_F_ACK == 0 || flags&unix.NLM_F_CREATE == 0 {
		t.Errorf("flags %#x", flags)
	}
	ifa := addr[unix.SizeofNlMsghdr:]
	if ifa[0] != unix.AF_INET || ifa[1] != 24 || binary.NativeEndian.Uint32(ifa[4:]) != 2 {
		t.Errorf("ifaddrmsg % x", ifa[:8])
	}
	want := map[uint16][]byte{unix.IFA_LOCAL: {10, 0, 2, 15}, unix.IFA_ADDRESS: {10, 0, 2, 15}, unix.IFA_BROADCAST: {10, 0, 2, 255}}
	if diff := cmp.Diff(want, nlAttrs(t, addr, unix.SizeofIfAddrmsg)); diff != "" {
		t.Errorf("address attributes (-want +got):\n%s", diff)
	}

	def := newRouteMsg(3, 2, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.0.2.2"))
	rtm := def[unix.SizeofNlMsghdr:]
	if rtm[0] != unix.AF_INET || rtm[1] != 0 || rtm[4] != unix.RT_TABLE_MAIN || rtm[6] != unix.RT_SCOPE_UNIVERSE || rtm[7] != unix.RTN_UNICAST {
		t.Errorf("rtmsg % x", rtm[:12])
	}
	oif := binary.NativeEndian.AppendUint32(nil, 2)
	if diff := cmp.Diff(map[uint16][]byte{unix.RTA_GATEWAY: {10, 0, 2, 2}, unix.RTA_OIF: oif}, nlAttrs(t, def, unix.SizeofRtMsg)); diff != "" {
		t.Errorf("default route attributes (-want +got):\n%s", diff)
	}
	host := newRouteMsg(2, 2, netip.MustParsePrefix("10.0.0.1/32"), netip.Addr{})
	if rtm := host[unix.SizeofNlMsghdr:]; rtm[1] != 32 || rtm[6] != unix.RT_SCOPE_LINK {
		t.Errorf("host route rtmsg % x", rtm[:12])
	}
	if diff := cmp.Diff(map[uint16][]byte{unix.RTA_DST: {10, 0, 0, 1}, unix.RTA_OIF: oif}, nlAttrs(t, host, unix.SizeofRtMsg)); diff != "" {
		t.Errorf("host route attributes (-want +got):\n%s", diff)
	}
}

func TestNlAck(t *testing.T) {
	errMsg := func(seq uint32, errno int32) []byte {
		body := binary.NativeEndian.AppendUint32(nil, uint32(errno))
		body = append(body, make([]byte, unix.SizeofNlMsghdr)...) // the request's header
		return nlmsg(unix.NLMSG_ERROR, 0, seq, body)
	}
	if done, err := nlAck(errMsg(3, 0), 3); !done || err != nil {
		t.Errorf("ack: %v, %v", done, err)
	}
	if done, err := nlAck(errMsg(3, -int32(syscall.EEXIST)), 3); !done || !errors.Is(err, syscall.EEXIST) {
		t.Errorf("error: %v, %v", done, err)
	}
	if done, _ := nlAck(errMsg(2, 0), 3); done {
		t.Error("an ack of another request counted")
	}
	if done, err := nlAck(append(nlmsg(unix.RTM_NEWADDR, 0, 3, []byte{1, 2, 3, 4}), errMsg(3, 0)...), 3); !done || err != nil {
		t.Errorf("ack after another message: %v, %v", done, err)
	}
	if _, err := nlAck([]byte{200, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}, 3); err == nil {
		t.Error("truncated message accepted")
	}
}

func TestCollectLeasesGivesUpAfterGrace(t *testing.T) {
	lease := dhcpLease{Addr: netip.MustParsePrefix("10.0.2.15/24")}
	dhcp := func(ctx context.Context, name string) (dhcpLease, error) {
		if name == "enp0s2" {
			return lease, nil
		}
		<-ctx.Done() // a link without a DHCP server: no offer until given up
		return dhcpLease{}, ctx.Err()
	}
	start := time.Now()
	got := collectLeases(context.Background(), []string{"enp0s2", "enp0s3"}, dhcp, 50*time.Millisecond)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s: the second interface was not given up after the grace", took)
	}
	if got[0].name != "enp0s2" || got[0].err != nil || got[0].lease.Addr != lease.Addr {
		t.Errorf("first interface: %+v", got[0])
	}
	if got[1].name != "enp0s3" || got[1].err == nil || !strings.Contains(got[1].err.Error(), "given up") {
		t.Errorf("second interface: %+v, want given up", got[1])
	}
}

func TestCollectLeasesWaitsForAllWithoutALease(t *testing.T) {
	fail := func(ctx context.Context, name string) (dhcpLease, error) {
		if name == "slow" {
			time.Sleep(100 * time.Millisecond)
		}
		return dhcpLease{}, errors.New("no DHCPOFFER")
	}
	got := collectLeases(context.Background(), []string{"fast", "slow"}, fail, time.Millisecond)
	for _, r := range got {
		if r.err == nil || r.err.Error() != "no DHCPOFFER" {
			t.Errorf("%s: %v, want its own error", r.name, r.err)
		}
	}
}
