package earlyboot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The interface operations kiln-init needs from the kernel: link up, a packet socket for DHCP,
// and addresses and routes over rtnetlink (the initramfs has no ip(8)).

// setLinkUp sets the IFF_UP flag of the interface name.
func setLinkUp(name string) error { return setLinkFlagUp(name, true) }

// setLinkDown clears it.
func setLinkDown(name string) error { return setLinkFlagUp(name, false) }

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

// packetConn is a dhcpConn on an AF_PACKET datagram socket bound to one interface: it sends
// IPv4 packets to the Ethernet broadcast address and receives every IPv4 packet of the
// interface, whether or not it has an address.
type packetConn struct {
	fd      int
	ifindex int
	// stop, when closed, ends a waiting recv with context.Canceled (checked every
	// recvSlice): the DHCP client's context, so giving up on an interface is prompt.
	stop <-chan struct{}
}

// recvSlice bounds each wait of recv, so a closed stop is noticed.
const recvSlice = 200 * time.Millisecond

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openPacketConn(ifindex int, stop <-chan struct{}) (*packetConn, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind the packet socket: %w", err)
	}
	return &packetConn{fd: fd, ifindex: ifindex, stop: stop}, nil
}

func (p *packetConn) send(pkt []byte) error {
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: p.ifindex, Halen: 6,
		Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	return unix.Sendto(p.fd, pkt, 0, to)
}

func (p *packetConn) recv(deadline time.Time) ([]byte, error) {
	buf := make([]byte, 1600)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, os.ErrDeadlineExceeded
		}
		select {
		case <-p.stop:
			return nil, context.Canceled
		default:
		}
		fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(min(wait, recvSlice).Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			continue // the loop checks the deadline
		}
		n, from, err := unix.Recvfrom(p.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // our own broadcast
		}
		return append([]byte(nil), buf[:n]...), nil
	}
}

func (p *packetConn) Close() error { return unix.Close(p.fd) }

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

// configureLease gives interface ifc the lease's address and, with a router, the default
// route through it (first a route to the router itself when it lies outside the subnet, as
// with the /32 leases of some clouds). noGateway leaves the default route out.
func configureLease(ifc *net.Interface, l dhcpLease, noGateway bool) error {
	if err := netlinkDo(newAddrMsg(1, ifc.Index, l.Addr), 1); err != nil {
		return fmt.Errorf("add the address %s to %s: %w", l.Addr, ifc.Name, err)
	}
	if !l.Router.IsValid() || noGateway {
		return nil
	}
	if !l.Addr.Masked().Contains(l.Router) {
		if err := netlinkDo(newRouteMsg(2, ifc.Index, netip.PrefixFrom(l.Router, 32), netip.Addr{}), 2); err != nil {
			return fmt.Errorf("add a route to the router %s on %s: %w", l.Router, ifc.Name, err)
		}
	}
	if err := netlinkDo(newRouteMsg(3, ifc.Index, netip.PrefixFrom(netip.IPv4Unspecified(), 0), l.Router), 3); err != nil {
		return fmt.Errorf("add the default route via %s on %s: %w", l.Router, ifc.Name, err)
	}
	return nil
}
