package dhcp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// dhcpConn carries IPv4 packets of one interface: send broadcasts one (to the Ethernet
// broadcast address), recv returns the next one received, or an error wrapping
// os.ErrDeadlineExceeded at deadline.
type dhcpConn interface {
	send(pkt []byte) error
	recv(deadline time.Time) ([]byte, error)
}

// dhcpRetransmit are the waits for a reply before sending again: short first, since a virtual
// or idle network answers at once, then every dhcpRetransmitMax.
var (
	dhcpRetransmit    = []time.Duration{time.Second, 2 * time.Second}
	dhcpRetransmitMax = 4 * time.Second
)

// dhcpRequestTries is how often the client sends a REQUEST for one offer before it starts over.
const dhcpRequestTries = 3

func retransmitWait(attempt int) time.Duration {
	if attempt < len(dhcpRetransmit) {
		return dhcpRetransmit[attempt]
	}
	return dhcpRetransmitMax
}

// dhcpClient gets a lease over a dhcpConn: DISCOVER, OFFER, REQUEST, ACK (RFC 2131 §3.1),
// starting over after a NAK or when the REQUEST goes unanswered, until ctx ends.
type dhcpClient struct {
	conn dhcpConn
	hw   net.HardwareAddr
	xid  func() uint32
	now  func() time.Time
}

var errDHCPNak = errors.New("the server refused the request (DHCPNAK)")

// DefaultTimeout bounds Get on one interface.
const DefaultTimeout = 30 * time.Second

// Get gets a DHCPv4 lease on the Ethernet interface ifc, over a packet socket (the interface
// needs no address), within DefaultTimeout; a cancelled ctx ends it at once. It sets nothing on
// the interface: the caller configures the lease.
func Get(ctx context.Context, ifc *net.Interface) (Lease, error) {
	if len(ifc.HardwareAddr) != 6 {
		return Lease{}, fmt.Errorf("not an Ethernet interface (hardware address %q)", ifc.HardwareAddr)
	}
	conn, err := openPacketConn(ifc.Index, ctx.Done())
	if err != nil {
		return Lease{}, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	c := &dhcpClient{conn: conn, hw: ifc.HardwareAddr, now: time.Now, xid: randomXID}
	l, err := c.lease(ctx)
	if err != nil {
		return Lease{}, fmt.Errorf("DHCP: %w", err)
	}
	return l, nil
}

func randomXID() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// lease runs the exchange until it has a lease or ctx ends. Its loop is the protocol's
// retransmission schedule (RFC 2131 §4.1: DISCOVER again when no OFFER comes, REQUEST up to
// dhcpRequestTries times), each wait inside transact bounded by ctx; it is not a poll of a
// condition, so it does not use common/poll.
func (c *dhcpClient) lease(ctx context.Context) (Lease, error) {
	start := c.now()
	var last error
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			if last == nil {
				last = errors.New("no DHCPOFFER")
			}
			return Lease{}, fmt.Errorf("after %.0f s: %w", c.now().Sub(start).Seconds(), last)
		}
		xid := c.xid()
		offer, err := c.transact(ctx, newDiscover(xid, c.hw, c.secs(start)), xid, retransmitWait(attempt), dhcpOffer)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
				continue // send the DISCOVER again
			}
			return Lease{}, err
		}
		if _, err := leaseFrom(offer); err != nil {
			last = fmt.Errorf("unusable DHCPOFFER: %w", err)
			continue
		}
		for try := 0; try < dhcpRequestTries; try++ {
			var ack *dhcpMessage
			ack, err = c.transact(ctx, newRequest(xid, c.hw, c.secs(start), offer), xid, retransmitWait(try), dhcpAck, dhcpNak)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
					continue
				}
				return Lease{}, err
			}
			if ack.Options.Type() == dhcpNak {
				err = errDHCPNak
				break
			}
			l, lerr := leaseFrom(ack)
			if lerr != nil {
				err = fmt.Errorf("unusable DHCPACK: %w", lerr)
				break
			}
			if !l.Server.IsValid() {
				l.Server, _ = offer.Options.addr(optServerID)
			}
			return l, nil
		}
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no DHCPACK for %s", offer.YIAddr)
		}
		last = err
	}
}

// secs is the "seconds elapsed" field: the time since the client started.
func (c *dhcpClient) secs(start time.Time) uint16 {
	return uint16(min(c.now().Sub(start)/time.Second, 0xffff))
}

// transact sends m and waits up to wait (and no longer than ctx) for a reply of one of the
// types want to transaction xid.
func (c *dhcpClient) transact(ctx context.Context, m *dhcpMessage, xid uint32, wait time.Duration, want ...byte) (*dhcpMessage, error) {
	pkt := udp4Packet(netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255}), dhcpClientPort, dhcpServerPort, m.marshal())
	if err := c.conn.send(pkt); err != nil {
		return nil, fmt.Errorf("send a DHCP message: %w", err)
	}
	deadline := c.now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		b, err := c.conn.recv(deadline)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, err
			}
			return nil, fmt.Errorf("receive DHCP replies: %w", err)
		}
		payload, ok := udp4Payload(b, dhcpClientPort)
		if !ok {
			continue
		}
		reply, err := parseDHCP(payload)
		if err != nil || !replyFor(reply, xid, c.hw) {
			continue
		}
		for _, t := range want {
			if reply.Options.Type() == t {
				return reply, nil
			}
		}
	}
}
