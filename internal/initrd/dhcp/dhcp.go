package dhcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/contract/bootargs"
)

// DHCPv4 (RFC 2131, options RFC 2132): the messages kiln-init's client sends and reads.

// ErrBadPacket marks a packet that is no DHCP message (or not one for this client).
var ErrBadPacket = errors.New("not a DHCP reply for this client")

// DHCP message types (option 53).
const (
	dhcpDiscover = 1
	dhcpOffer    = 2
	dhcpRequest  = 3
	dhcpAck      = 5
	dhcpNak      = 6
)

// DHCP options kiln-init reads or writes.
const (
	optPad          = 0
	optSubnetMask   = 1
	optRouter       = 3
	optDNS          = 6
	optHostname     = 12
	optDomainName   = 15
	optMTU          = 26
	optBroadcast    = 28
	optRequestedIP  = 50
	optLeaseTime    = 51
	optMessageType  = 53
	optServerID     = 54
	optParamRequest = 55
	optMaxSize      = 57
	optClientID     = 61
	optEnd          = 255
)

const (
	bootRequest    = 1
	bootReply      = 2
	dhcpFixedLen   = 236 // the BOOTP header up to the options
	dhcpMinLen     = 300 // BOOTP's minimal message; some servers ignore shorter ones
	dhcpMagic      = 0x63825363
	flagBroadcast  = 0x8000
	dhcpServerPort = 67
	dhcpClientPort = 68
)

// dhcpMessage is one DHCP message, the fields kiln-init uses.
type dhcpMessage struct {
	Op      byte
	XID     uint32
	Secs    uint16
	Flags   uint16
	CIAddr  netip.Addr
	YIAddr  netip.Addr
	SIAddr  netip.Addr
	CHAddr  net.HardwareAddr
	Options dhcpOptions
}

// dhcpOptions maps option codes to their raw values. Repeated options are concatenated, as
// RFC 3396 says.
type dhcpOptions map[byte][]byte

// Type is the message type, option 53 (0 without one).
func (o dhcpOptions) Type() byte {
	if v := o[optMessageType]; len(v) == 1 {
		return v[0]
	}
	return 0
}

// addr is the first IPv4 address of option code.
func (o dhcpOptions) addr(code byte) (netip.Addr, bool) {
	addrs := o.addrs(code)
	if len(addrs) == 0 {
		return netip.Addr{}, false
	}
	return addrs[0], true
}

// addrs are the IPv4 addresses of option code; a value whose length is no multiple of 4 has none.
func (o dhcpOptions) addrs(code byte) []netip.Addr {
	v := o[code]
	if len(v) == 0 || len(v)%4 != 0 {
		return nil
	}
	var out []netip.Addr
	for i := 0; i < len(v); i += 4 {
		out = append(out, netip.AddrFrom4([4]byte(v[i:i+4])))
	}
	return out
}

// uint32 is option code as a 32-bit number.
func (o dhcpOptions) uint32(code byte) (uint32, bool) {
	if v := o[code]; len(v) == 4 {
		return binary.BigEndian.Uint32(v), true
	}
	return 0, false
}

// marshal encodes m as a DHCP message (the UDP payload), padded to dhcpMinLen. Options are
// written in ascending code order after the message type, so the encoding is stable.
func (m *dhcpMessage) marshal() []byte {
	b := make([]byte, dhcpFixedLen+4, dhcpMinLen)
	b[0] = m.Op
	b[1] = 1 // Ethernet
	b[2] = byte(len(m.CHAddr))
	binary.BigEndian.PutUint32(b[4:], m.XID)
	binary.BigEndian.PutUint16(b[8:], m.Secs)
	binary.BigEndian.PutUint16(b[10:], m.Flags)
	for off, a := range map[int]netip.Addr{12: m.CIAddr, 16: m.YIAddr, 20: m.SIAddr} {
		if a.Is4() {
			a4 := a.As4()
			copy(b[off:], a4[:])
		}
	}
	copy(b[28:44], m.CHAddr)
	binary.BigEndian.PutUint32(b[dhcpFixedLen:], dhcpMagic)
	if t, ok := m.Options[optMessageType]; ok {
		b = appendOption(b, optMessageType, t)
	}
	for code := 1; code < optEnd; code++ {
		if v, ok := m.Options[byte(code)]; ok && code != optMessageType {
			b = appendOption(b, byte(code), v)
		}
	}
	b = append(b, optEnd)
	for len(b) < dhcpMinLen {
		b = append(b, optPad)
	}
	return b
}

// appendOption appends one option, split into several when longer than 255 bytes.
func appendOption(b []byte, code byte, v []byte) []byte {
	for {
		n := min(len(v), 255)
		b = append(b, code, byte(n))
		b = append(b, v[:n]...)
		v = v[n:]
		if len(v) == 0 {
			return b
		}
	}
}

// parseDHCP decodes a DHCP message (a UDP payload). The sname and file fields are not read as
// options (option 52, overload, is ignored: the options kiln-init needs come first).
func parseDHCP(b []byte) (*dhcpMessage, error) {
	if len(b) < dhcpFixedLen+4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadPacket, len(b))
	}
	if binary.BigEndian.Uint32(b[dhcpFixedLen:]) != dhcpMagic {
		return nil, fmt.Errorf("%w: no DHCP magic cookie", ErrBadPacket)
	}
	hlen := int(b[2])
	if hlen > 16 {
		return nil, fmt.Errorf("%w: hardware address length %d", ErrBadPacket, hlen)
	}
	m := &dhcpMessage{
		Op:      b[0],
		XID:     binary.BigEndian.Uint32(b[4:]),
		Secs:    binary.BigEndian.Uint16(b[8:]),
		Flags:   binary.BigEndian.Uint16(b[10:]),
		CIAddr:  netip.AddrFrom4([4]byte(b[12:16])),
		YIAddr:  netip.AddrFrom4([4]byte(b[16:20])),
		SIAddr:  netip.AddrFrom4([4]byte(b[20:24])),
		CHAddr:  net.HardwareAddr(append([]byte(nil), b[28:28+hlen]...)),
		Options: dhcpOptions{},
	}
	opts := b[dhcpFixedLen+4:]
	for i := 0; i < len(opts); {
		code := opts[i]
		switch code {
		case optPad:
			i++
			continue
		case optEnd:
			return m, nil
		}
		if i+1 >= len(opts) || i+2+int(opts[i+1]) > len(opts) {
			return nil, fmt.Errorf("%w: option %d runs past the end", ErrBadPacket, code)
		}
		n := int(opts[i+1])
		m.Options[code] = append(m.Options[code], opts[i+2:i+2+n]...)
		i += 2 + n
	}
	return m, nil // no end option: accept what was there
}

// Lease is what an ACK gave this client.
type Lease struct {
	Addr      netip.Prefix // the address with the subnet's prefix length
	Router    netip.Addr   // invalid without a router option
	DNS       []netip.Addr
	Domain    string
	Server    netip.Addr // the server identifier
	LeaseTime time.Duration
	MTU       int
}

// Describe is the console line of interface name configured with l; noGateway says the
// router was left out (kiln.net.gateway=off).
func (l Lease) Describe(name string, noGateway bool) string {
	s := name + " " + l.Addr.String()
	switch {
	case l.Router.IsValid() && noGateway:
		s += " (router " + l.Router.String() + " unused: " + bootargs.NetGateway + "=off)"
	case l.Router.IsValid():
		s += " via " + l.Router.String()
	default:
		s += " (no router)"
	}
	if len(l.DNS) > 0 {
		var d []string
		for _, a := range l.DNS {
			d = append(d, a.String())
		}
		s += ", dns " + strings.Join(d, " ")
	}
	if l.LeaseTime > 0 {
		s += fmt.Sprintf(", lease %s from %s", l.LeaseTime, l.Server)
	}
	return s
}

// leaseFrom reads the lease out of an ACK (or an OFFER). Without a subnet mask option the
// mask is the classful default, as RFC 2132 suggests clients assume.
func leaseFrom(m *dhcpMessage) (Lease, error) {
	if !m.YIAddr.Is4() || m.YIAddr.IsUnspecified() {
		return Lease{}, fmt.Errorf("%w: no address offered", ErrBadPacket)
	}
	bits := classfulBits(m.YIAddr)
	if mask, ok := m.Options[optSubnetMask]; ok {
		var err error
		if bits, err = maskBits(mask); err != nil {
			return Lease{}, err
		}
	}
	l := Lease{Addr: netip.PrefixFrom(m.YIAddr, bits), DNS: m.Options.addrs(optDNS), Domain: cleanDomain(m.Options[optDomainName])}
	l.Router, _ = m.Options.addr(optRouter)
	l.Server, _ = m.Options.addr(optServerID)
	if s, ok := m.Options.uint32(optLeaseTime); ok {
		l.LeaseTime = time.Duration(s) * time.Second
	}
	if v := m.Options[optMTU]; len(v) == 2 {
		l.MTU = int(binary.BigEndian.Uint16(v))
	}
	return l, nil
}

// cleanDomain is the domain name option without the NUL some servers end it with, and empty
// when it holds anything but a domain name's characters (it ends up in resolv.conf).
func cleanDomain(v []byte) string {
	d := strings.TrimRight(string(v), "\x00")
	for _, r := range d {
		if !(r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ""
		}
	}
	return d
}

// maskBits is the prefix length of a contiguous IPv4 netmask.
func maskBits(mask []byte) (int, error) {
	if len(mask) != 4 {
		return 0, fmt.Errorf("%w: subnet mask of %d bytes", ErrBadPacket, len(mask))
	}
	ones, total := net.IPMask(mask).Size()
	if total == 0 {
		return 0, fmt.Errorf("%w: subnet mask %s is not contiguous", ErrBadPacket, net.IP(mask))
	}
	return ones, nil
}

// prefixMask is the IPv4 netmask of a prefix length.
func prefixMask(bits int) netip.Addr {
	return netip.AddrFrom4([4]byte(net.CIDRMask(bits, 32)))
}

// classfulBits is the prefix length of the address's class (A /8, B /16, else /24).
func classfulBits(a netip.Addr) int {
	switch first := a.As4()[0]; {
	case first < 128:
		return 8
	case first < 192:
		return 16
	}
	return 24
}

// dhcpParams are the options kiln-init asks for (option 55).
var dhcpParams = []byte{optSubnetMask, optRouter, optDNS, optHostname, optDomainName, optMTU, optBroadcast, optLeaseTime, optServerID}

// newDiscover is the DISCOVER that starts a lease.
func newDiscover(xid uint32, hw net.HardwareAddr, secs uint16) *dhcpMessage {
	return &dhcpMessage{Op: bootRequest, XID: xid, Secs: secs, Flags: flagBroadcast, CHAddr: hw, Options: dhcpOptions{
		optMessageType:  {dhcpDiscover},
		optParamRequest: dhcpParams,
		optMaxSize:      {0x05, 0xdc}, // 1500
		optClientID:     append([]byte{1}, hw...),
	}}
}

// newRequest is the REQUEST that takes the OFFER offer (the SELECTING state of RFC 2131).
func newRequest(xid uint32, hw net.HardwareAddr, secs uint16, offer *dhcpMessage) *dhcpMessage {
	m := newDiscover(xid, hw, secs)
	m.Options[optMessageType] = []byte{dhcpRequest}
	ip := offer.YIAddr.As4()
	m.Options[optRequestedIP] = ip[:]
	if sid, ok := offer.Options[optServerID]; ok {
		m.Options[optServerID] = sid
	}
	return m
}

// replyFor reports whether m is a server's reply to transaction xid of hw.
func replyFor(m *dhcpMessage, xid uint32, hw net.HardwareAddr) bool {
	return m.Op == bootReply && m.XID == xid && string(m.CHAddr) == string(hw)
}

// IPv4 and UDP framing: kiln-init sends from 0.0.0.0 before it has an address, so it builds
// the headers itself and sends through a packet socket.

const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8
	protoUDP      = 17
)

// udp4Packet wraps payload in UDP and IPv4 headers, with both checksums.
func udp4Packet(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	total := ipv4HeaderLen + udpHeaderLen + len(payload)
	b := make([]byte, total)
	b[0] = 0x45 // IPv4, 5 words
	b[1] = 0x10 // low delay, as ISC dhclient sends
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	b[8] = 64 // TTL
	b[9] = protoUDP
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:ipv4HeaderLen], 0))
	u := b[ipv4HeaderLen:]
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(udpHeaderLen+len(payload)))
	copy(u[udpHeaderLen:], payload)
	// The pseudo header: source, destination, protocol, UDP length.
	pseudo := uint32(0)
	for _, a := range [][]byte{s[:], d[:]} {
		pseudo += uint32(binary.BigEndian.Uint16(a[0:])) + uint32(binary.BigEndian.Uint16(a[2:]))
	}
	pseudo += protoUDP + uint32(len(u))
	sum := checksum(u, pseudo)
	if sum == 0 {
		sum = 0xffff // zero means "no checksum" in UDP
	}
	binary.BigEndian.PutUint16(u[6:], sum)
	return b
}

// checksum is the Internet checksum (RFC 1071) of b, starting from the partial sum initial.
func checksum(b []byte, initial uint32) uint16 {
	sum := initial
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// udp4Payload returns the UDP payload of an IPv4 packet sent to dport, or ok false for any
// other packet (fragments included). The UDP checksum is not checked: a packet socket may see
// packets whose checksum a virtual NIC left for offload.
func udp4Payload(b []byte, dport uint16) (payload []byte, ok bool) {
	if len(b) < ipv4HeaderLen || b[0]>>4 != 4 {
		return nil, false
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < ipv4HeaderLen || total < ihl+udpHeaderLen || total > len(b) || b[9] != protoUDP {
		return nil, false
	}
	if frag := binary.BigEndian.Uint16(b[6:]); frag&0x3fff != 0 { // more fragments or an offset
		return nil, false
	}
	u := b[ihl:total]
	if binary.BigEndian.Uint16(u[2:]) != dport {
		return nil, false
	}
	ulen := int(binary.BigEndian.Uint16(u[4:]))
	if ulen < udpHeaderLen || ulen > len(u) {
		return nil, false
	}
	return u[udpHeaderLen:ulen], true
}
