package netlink

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

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

func TestBroadcastAddr(t *testing.T) {
	for prefix, want := range map[string]string{
		"10.0.2.15/24":  "10.0.2.255",
		"172.16.5.4/20": "172.16.15.255",
		"10.1.2.3/8":    "10.255.255.255",
		"1.2.3.4/0":     "255.255.255.255",
		"10.0.0.0/31":   "10.0.0.0",
		"10.0.0.7/32":   "10.0.0.7",
	} {
		if got := broadcastAddr(netip.MustParsePrefix(prefix)).String(); got != want {
			t.Errorf("broadcastAddr(%s) = %s, want %s", prefix, got, want)
		}
	}
}
