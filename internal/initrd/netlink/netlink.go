package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// SetLinkUp sets the IFF_UP flag of the interface name.
func SetLinkUp(name string) error { return setLinkFlagUp(name, true) }

// SetLinkDown clears it.
func SetLinkDown(name string) error { return setLinkFlagUp(name, false) }

func setLinkFlagUp(name string, up bool) error {
	what := "set " + name + " down"
	if up {
		what = "set " + name + " up"
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s: get flags: %w", what, err)
	}
	flags := ifr.Uint16() &^ unix.IFF_UP
	if up {
		flags |= unix.IFF_UP
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Netlink requests. Messages are in the host's byte order, addresses in network order.

// rtattr appends a route attribute.
func rtattr(b []byte, typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b = binary.NativeEndian.AppendUint16(b, uint16(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func addr4(a netip.Addr) []byte { b := a.As4(); return b[:] }

// newAddrMsg is an RTM_NEWADDR request for address p on interface ifindex, without a lifetime:
// the address stays after the lease would end (kiln-init does not renew; see netup.go).
func newAddrMsg(seq uint32, ifindex int, p netip.Prefix) []byte {
	body := []byte{unix.AF_INET, byte(p.Bits()), 0, unix.RT_SCOPE_UNIVERSE}
	body = binary.NativeEndian.AppendUint32(body, uint32(ifindex))
	body = rtattr(body, unix.IFA_LOCAL, addr4(p.Addr()))
	body = rtattr(body, unix.IFA_ADDRESS, addr4(p.Addr()))
	if p.Bits() < 31 {
		body = rtattr(body, unix.IFA_BROADCAST, addr4(broadcastAddr(p)))
	}
	return nlmsg(unix.RTM_NEWADDR, unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_REPLACE, seq, body)
}

// newRouteMsg is an RTM_NEWROUTE request in the main table: to dst through gw (when valid)
// out of interface ifindex; a route without a gateway is link-scoped.
func newRouteMsg(seq uint32, ifindex int, dst netip.Prefix, gw netip.Addr) []byte {
	scope := byte(unix.RT_SCOPE_UNIVERSE)
	if !gw.IsValid() {
		scope = unix.RT_SCOPE_LINK
	}
	body := []byte{unix.AF_INET, byte(dst.Bits()), 0, 0, unix.RT_TABLE_MAIN, unix.RTPROT_DHCP, scope, unix.RTN_UNICAST}
	body = binary.NativeEndian.AppendUint32(body, 0) // rtm_flags
	if dst.Bits() > 0 {
		body = rtattr(body, unix.RTA_DST, addr4(dst.Addr()))
	}
	if gw.IsValid() {
		body = rtattr(body, unix.RTA_GATEWAY, addr4(gw))
	}
	body = rtattr(body, unix.RTA_OIF, binary.NativeEndian.AppendUint32(nil, uint32(ifindex)))
	return nlmsg(unix.RTM_NEWROUTE, unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_REPLACE, seq, body)
}

func nlmsg(typ, flags uint16, seq uint32, body []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(unix.SizeofNlMsghdr+len(body)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // pid: the kernel fills it in
	return append(b, body...)
}

// nlAck reads the kernel's answer to request seq: nil for an ACK, the errno for an error.
func nlAck(b []byte, seq uint32) (done bool, err error) {
	for len(b) >= unix.SizeofNlMsghdr {
		l := binary.NativeEndian.Uint32(b[0:])
		typ := binary.NativeEndian.Uint16(b[4:])
		s := binary.NativeEndian.Uint32(b[8:])
		if l < unix.SizeofNlMsghdr || int(l) > len(b) {
			return false, errors.New("truncated netlink message")
		}
		if typ == unix.NLMSG_ERROR && s == seq {
			if l < unix.SizeofNlMsghdr+4 {
				return false, errors.New("truncated netlink error")
			}
			if errno := int32(binary.NativeEndian.Uint32(b[unix.SizeofNlMsghdr:])); errno != 0 {
				return true, syscall.Errno(-errno)
			}
			return true, nil
		}
		b = b[(l+3)&^3:]
	}
	return false, nil
}

// netlinkDo sends one request and waits for its ACK.
func netlinkDo(req []byte, seq uint32) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval((5 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		if done, err := nlAck(buf[:n], seq); done || err != nil {
			return err
		}
	}
}

// AddAddress adds the address p (with its prefix length, and the subnet's broadcast address)
// to the interface ifindex.
func AddAddress(ifindex int, p netip.Prefix) error {
	return netlinkDo(newAddrMsg(1, ifindex, p), 1)
}

// AddRoute adds a route to dst on the interface ifindex: through the gateway gw, or without
// one (invalid gw) a route to a destination on the link.
func AddRoute(ifindex int, dst netip.Prefix, gw netip.Addr) error {
	return netlinkDo(newRouteMsg(2, ifindex, dst, gw), 2)
}

// broadcastAddr is the subnet's broadcast address (the address itself for /31 and /32).
func broadcastAddr(p netip.Prefix) netip.Addr {
	if p.Bits() >= 31 {
		return p.Addr()
	}
	a := p.Addr().As4()
	m := net.CIDRMask(p.Bits(), 32)
	for i := range a {
		a[i] |= ^m[i]
	}
	return netip.AddrFrom4(a)
}
