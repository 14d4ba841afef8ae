package dhcp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testHW = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// offerFrom is a server's reply of type typ to the request req, with slirp's options.
func offerFrom(req *dhcpMessage, typ byte, yiaddr string) *dhcpMessage {
	return &dhcpMessage{Op: bootReply, XID: req.XID, YIAddr: netip.MustParseAddr(yiaddr), CHAddr: req.CHAddr,
		Options: dhcpOptions{
			optMessageType: {typ},
			optSubnetMask:  {255, 255, 255, 0},
			optRouter:      {10, 0, 2, 2},
			optDNS:         {10, 0, 2, 3},
			optServerID:    {10, 0, 2, 2},
			optLeaseTime:   {0, 1, 0x51, 0x80}, // 86400
		}}
}

func TestDHCPMessageRoundTrip(t *testing.T) {
	offer := offerFrom(newDiscover(7, testHW, 0), dhcpOffer, "10.0.2.15")
	for name, m := range map[string]*dhcpMessage{
		"discover": newDiscover(0xdeadbeef, testHW, 3),
		"request":  newRequest(0xdeadbeef, testHW, 5, offer),
		"offer":    offer,
		"long option": {Op: bootReply, XID: 1, CHAddr: testHW, YIAddr: netip.MustParseAddr("192.168.1.9"),
			Options: dhcpOptions{optMessageType: {dhcpAck}, optDomainName: bytes.Repeat([]byte("a"), 300)}},
	} {
		t.Run(name, func(t *testing.T) {
			b := m.marshal()
			if len(b) < dhcpMinLen {
				t.Errorf("%d bytes, want at least %d", len(b), dhcpMinLen)
			}
			got, err := parseDHCP(b)
			if err != nil {
				t.Fatal(err)
			}
			want := *m
			for _, a := range []*netip.Addr{&want.CIAddr, &want.YIAddr, &want.SIAddr} {
				if !a.IsValid() {
					*a = netip.IPv4Unspecified()
				}
			}
			if diff := cmp.Diff(&want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDHCPDiscoverBytes(t *testing.T) {
	b := newDiscover(0x01020304, testHW, 0).marshal()
	for _, c := range []struct {
		off  int
		want []byte
	}{
		{0, []byte{bootRequest, 1, 6, 0, 1, 2, 3, 4, 0, 0, 0x80, 0}}, // op, htype, hlen, hops, xid, secs, flags
		{28, testHW}, // chaddr
		{236, []byte{99, 130, 83, 99, optMessageType, 1, dhcpDiscover}}, // magic, then the type first
		{243, []byte{optParamRequest, byte(len(dhcpParams))}},
	} {
		if got := b[c.off : c.off+len(c.want)]; !bytes.Equal(got, c.want) {
			t.Errorf("bytes at %d = % x, want % x", c.off, got, c.want)
		}
	}
	opts, _ := parseDHCP(b)
	if got, want := opts.Options[optClientID], append([]byte{1}, testHW...); !bytes.Equal(got, want) {
		t.Errorf("client id % x, want % x", got, want)
	}
}

func TestParseDHCPErrors(t *testing.T) {
	good := newDiscover(1, testHW, 0).marshal()
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, b := range map[string][]byte{
		"short":           good[:100],
		"no magic":        mod(func(b []byte) []byte { b[236] = 0; return b }),
		"hlen too large":  mod(func(b []byte) []byte { b[2] = 17; return b }),
		"option overruns": mod(func(b []byte) []byte { return append(b[:240], optDNS, 8, 1, 2, 3) }),
		"length missing":  mod(func(b []byte) []byte { return append(b[:240], optDNS) }),
	} {
		if _, err := parseDHCP(b); !errors.Is(err, ErrBadPacket) {
			t.Errorf("%s: err = %v, want ErrBadPacket", name, err)
		}
	}
}

func TestDHCPOptionsRepeatedAndPadded(t *testing.T) {
	b := newDiscover(1, testHW, 0).marshal()[:240]
	b = append(b, optPad, optDNS, 4, 1, 1, 1, 1, optPad, optDNS, 4, 8, 8, 8, 8) // RFC 3396: concatenated
	m, err := parseDHCP(b)                                                      // and no end option
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("8.8.8.8")}
	if diff := cmp.Diff(want, m.Options.addrs(optDNS), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLeaseFrom(t *testing.T) {
	base := func(f func(o dhcpOptions)) *dhcpMessage {
		m := offerFrom(newDiscover(1, testHW, 0), dhcpAck, "10.0.2.15")
		if f != nil {
			f(m.Options)
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		m       *dhcpMessage
		want    string // describeLease
		wantErr bool
	}{
		{"slirp", base(nil), "eth0 10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3, lease 24h0m0s from 10.0.2.2", false},
		{"no mask: classful", base(func(o dhcpOptions) { delete(o, optSubnetMask) }), "eth0 10.0.2.15/8 via 10.0.2.2, dns 10.0.2.3, lease 24h0m0s from 10.0.2.2", false},
		{"no router, two dns", base(func(o dhcpOptions) {
			delete(o, optRouter)
			o[optDNS] = []byte{1, 1, 1, 1, 9, 9, 9, 9}
		}), "eth0 10.0.2.15/24 (no router), dns 1.1.1.1 9.9.9.9, lease 24h0m0s from 10.0.2.2", false},
		{"/32 lease", base(func(o dhcpOptions) { o[optSubnetMask] = []byte{255, 255, 255, 255} }), "eth0 10.0.2.15/32 via 10.0.2.2, dns 10.0.2.3, lease 24h0m0s from 10.0.2.2", false},
		{"holey mask", base(func(o dhcpOptions) { o[optSubnetMask] = []byte{255, 0, 255, 0} }), "", true},
		{"short mask", base(func(o dhcpOptions) { o[optSubnetMask] = []byte{255, 255} }), "", true},
		{"no address", func() *dhcpMessage { m := base(nil); m.YIAddr = netip.IPv4Unspecified(); return m }(), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := leaseFrom(tc.m)
			if tc.wantErr {
				if !errors.Is(err, ErrBadPacket) {
					t.Fatalf("err = %v, want ErrBadPacket", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Describe("eth0", false); got != tc.want {
				t.Errorf("lease %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLeaseExtras(t *testing.T) {
	m := offerFrom(newDiscover(1, testHW, 0), dhcpAck, "10.0.2.15")
	m.Options[optMTU] = []byte{0x05, 0xdc}
	m.Options[optDomainName] = []byte("example.internal\x00")
	l, err := leaseFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	if l.MTU != 1500 || l.Domain != "example.internal" {
		t.Errorf("mtu %d, domain %q", l.MTU, l.Domain)
	}
	m.Options[optDomainName] = []byte("evil\nnameserver 6.6.6.6")
	if l, _ := leaseFrom(m); l.Domain != "" {
		t.Errorf("domain %q kept, want it dropped", l.Domain)
	}
	if got := l.Describe("eth0", true); got != "eth0 10.0.2.15/24 (router 10.0.2.2 unused: kiln.net.gateway=off), dns 10.0.2.3, lease 24h0m0s from 10.0.2.2" {
		t.Errorf("describeLease = %q", got)
	}
}

func TestNetmaskMath(t *testing.T) {
	for _, tc := range []struct {
		mask []byte
		bits int
	}{
		{[]byte{255, 255, 255, 0}, 24},
		{[]byte{255, 255, 240, 0}, 20},
		{[]byte{255, 0, 0, 0}, 8},
		{[]byte{0, 0, 0, 0}, 0},
		{[]byte{255, 255, 255, 254}, 31},
		{[]byte{255, 255, 255, 255}, 32},
	} {
		bits, err := maskBits(tc.mask)
		if err != nil || bits != tc.bits {
			t.Errorf("maskBits(%v) = %d, %v; want %d", tc.mask, bits, err, tc.bits)
		}
		if m := prefixMask(tc.bits).As4(); !bytes.Equal(m[:], tc.mask) {
			t.Errorf("prefixMask(%d) = %v, want %v", tc.bits, m, tc.mask)
		}
	}
	for a, want := range map[string]int{"10.0.0.1": 8, "172.16.0.1": 16, "192.168.1.1": 24, "224.0.0.1": 24} {
		if got := classfulBits(netip.MustParseAddr(a)); got != want {
			t.Errorf("classfulBits(%s) = %d, want %d", a, got, want)
		}
	}
}

func TestUDP4Packet(t *testing.T) {
	payload := []byte("hello, dhcp")
	src, dst := netip.IPv4Unspecified(), netip.MustParseAddr("255.255.255.255")
	p := udp4Packet(src, dst, dhcpClientPort, dhcpServerPort, payload)
	if len(p) != 20+8+len(payload) {
		t.Fatalf("length %d", len(p))
	}
	if checksum(p[:20], 0) != 0 {
		t.Error("the IPv4 header checksum does not verify")
	}
	// The UDP checksum verifies over the pseudo header.
	pseudo := uint32(0xffff+0xffff) + protoUDP + uint32(len(p)-20)
	if checksum(p[20:], pseudo) != 0 {
		t.Error("the UDP checksum does not verify")
	}
	if got, ok := udp4Payload(p, dhcpServerPort); !ok || !bytes.Equal(got, payload) {
		t.Errorf("udp4Payload = %q, %v", got, ok)
	}
	if _, ok := udp4Payload(p, dhcpClientPort); ok {
		t.Error("udp4Payload accepted a packet for another port")
	}
	frag := append([]byte(nil), p...)
	binary.BigEndian.PutUint16(frag[6:], 0x2000) // more fragments
	tcp := append([]byte(nil), p...)
	tcp[9] = 6
	for name, b := range map[string][]byte{"fragment": frag, "tcp": tcp, "short": p[:10], "ipv6": append([]byte{0x60}, p[1:]...), "truncated": p[:30]} {
		if _, ok := udp4Payload(b, dhcpServerPort); ok {
			t.Errorf("udp4Payload accepted a %s", name)
		}
	}
	// RFC 1071's example: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, its complement 220d.
	if got := checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 0); got != 0x220d {
		t.Errorf("checksum = %#x, want 0x220d", got)
	}
}

// fakeDHCPNet is a dhcpConn with a server behind it: serve answers each message the client
// sends (nil: the message is lost). recv returns the queued replies and then times out at once.
type fakeDHCPNet struct {
	serve   func(n int, m *dhcpMessage) []*dhcpMessage
	sent    []*dhcpMessage
	pending [][]byte
}

func (f *fakeDHCPNet) send(pkt []byte) error {
	payload, ok := udp4Payload(pkt, dhcpServerPort)
	if !ok {
		return errors.New("not a UDP packet to port 67")
	}
	m, err := parseDHCP(payload)
	if err != nil {
		return err
	}
	f.sent = append(f.sent, m)
	for _, r := range f.serve(len(f.sent), m) {
		f.pending = append(f.pending, udp4Packet(netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("255.255.255.255"), dhcpServerPort, dhcpClientPort, r.marshal()))
	}
	return nil
}

func (f *fakeDHCPNet) recv(time.Time) ([]byte, error) {
	if len(f.pending) == 0 {
		return nil, os.ErrDeadlineExceeded
	}
	p := f.pending[0]
	f.pending = f.pending[1:]
	return p, nil
}

// slirpServer answers like slirp: an OFFER to a DISCOVER, an ACK to a REQUEST.
func slirpServer(_ int, m *dhcpMessage) []*dhcpMessage {
	switch m.Options.Type() {
	case dhcpDiscover:
		return []*dhcpMessage{offerFrom(m, dhcpOffer, "10.0.2.15")}
	case dhcpRequest:
		return []*dhcpMessage{offerFrom(m, dhcpAck, "10.0.2.15")}
	}
	return nil
}

func TestDHCPClient(t *testing.T) {
	other := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for _, tc := range []struct {
		name      string
		serve     func(n int, m *dhcpMessage) []*dhcpMessage
		wantErr   string
		wantTypes []byte // the messages the client sent
	}{
		{"slirp", slirpServer, "", []byte{dhcpDiscover, dhcpRequest}},
		{"first discover lost", func(n int, m *dhcpMessage) []*dhcpMessage {
			if n == 1 {
				return nil
			}
			return slirpServer(n, m)
		}, "", []byte{dhcpDiscover, dhcpDiscover, dhcpRequest}},
		{"noise first: other client, other xid, not a reply", func(n int, m *dhcpMessage) []*dhcpMessage {
			r := slirpServer(n, m)
			forOther := offerFrom(m, dhcpOffer, "10.0.2.16")
			forOther.CHAddr = other
			oldXID := offerFrom(m, dhcpOffer, "10.0.2.17")
			oldXID.XID++
			echo := *m
			return append([]*dhcpMessage{forOther, oldXID, &echo}, r...)
		}, "", []byte{dhcpDiscover, dhcpRequest}},
		{"nak, then ack", func(n int, m *dhcpMessage) []*dhcpMessage {
			if n == 2 {
				return []*dhcpMessage{offerFrom(m, dhcpNak, "0.0.0.0")}
			}
			return slirpServer(n, m)
		}, "", []byte{dhcpDiscover, dhcpRequest, dhcpDiscover, dhcpRequest}},
		{"no server", func(int, *dhcpMessage) []*dhcpMessage { return nil }, "no DHCPOFFER", nil},
		{"requests unanswered", func(n int, m *dhcpMessage) []*dhcpMessage {
			if m.Options.Type() == dhcpRequest {
				return nil
			}
			return slirpServer(n, m)
		}, "no DHCPACK for 10.0.2.15", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeDHCPNet{serve: tc.serve}
			xid := uint32(100)
			c := &dhcpClient{conn: fake, hw: testHW, now: time.Now, xid: func() uint32 { xid++; return xid }}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			l, err := c.lease(ctx)
			if tc.wantErr != "" {
				if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.wantErr)) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Describe("eth0", false); got != "eth0 10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3, lease 24h0m0s from 10.0.2.2" {
				t.Errorf("lease %q", got)
			}
			var types []byte
			for _, m := range fake.sent {
				types = append(types, m.Options.Type())
			}
			if !bytes.Equal(types, tc.wantTypes) {
				t.Errorf("sent message types %v, want %v", types, tc.wantTypes)
			}
			last := fake.sent[len(fake.sent)-1]
			if ip := last.Options[optRequestedIP]; !bytes.Equal(ip, []byte{10, 0, 2, 15}) {
				t.Errorf("REQUEST asks for % x", ip)
			}
			if sid := last.Options[optServerID]; !bytes.Equal(sid, []byte{10, 0, 2, 2}) {
				t.Errorf("REQUEST names server % x", sid)
			}
		})
	}
}
