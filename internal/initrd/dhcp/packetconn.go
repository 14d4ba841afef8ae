package dhcp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// packetConn is the dhcpConn of Get on an AF_PACKET datagram socket bound to one interface: it sends
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

// recv waits for the next packet. Its loop is an event loop over poll(2), woken every recvSlice
// to notice stop, not a retry: it stays as it is.
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
