package harness

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// PointToPoint returns two Links, with MACs macA and macB, that connect two VMs directly: each
// sends its frames to the port the other one receives on.
func PointToPoint(macA, macB string) (Link, Link, error) {
	ports, err := FreeUDPPorts(2)
	if err != nil {
		return Link{}, Link{}, fmt.Errorf("point-to-point link: %w", err)
	}
	return Link{MAC: macA, LocalPort: ports[0], RemotePort: ports[1]},
		Link{MAC: macB, LocalPort: ports[1], RemotePort: ports[0]}, nil
}

// Hub is an Ethernet hub for more than two VMs, run by the test process on one UDP port of
// 127.0.0.1: every frame from a member's Link goes to every other member. Datagrams from
// ports that are not members are dropped. A test may also act as a member itself: a UDP
// socket bound to a Link's LocalPort that sends to its RemotePort sees and sends frames like a
// VM.
type Hub struct {
	conn *net.UDPConn
	done chan struct{}

	mu      sync.Mutex
	members map[int]bool // LocalPorts of the Links handed out
	frames  int
}

// NewHub starts a hub. Close stops it.
func NewHub() (*Hub, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("start hub: %w", err)
	}
	h := &Hub{conn: conn, done: make(chan struct{}), members: map[int]bool{}}
	go h.forward()
	return h, nil
}

// Link returns a new member Link of the hub with the given MAC.
func (h *Hub) Link(mac string) (Link, error) {
	if err := checkMAC(mac); err != nil {
		return Link{}, err
	}
	port, err := FreeUDPPorts(1)
	if err != nil {
		return Link{}, fmt.Errorf("hub link: %w", err)
	}
	h.mu.Lock()
	h.members[port[0]] = true
	h.mu.Unlock()
	return Link{MAC: mac, LocalPort: port[0], RemotePort: h.Port()}, nil
}

// Port is the UDP port the hub receives on.
func (h *Hub) Port() int {
	return h.conn.LocalAddr().(*net.UDPAddr).Port
}

// Frames counts the frames the hub forwarded.
func (h *Hub) Frames() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frames
}

// Close stops the hub and waits for its goroutine to end.
func (h *Hub) Close() error {
	err := h.conn.Close()
	<-h.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (h *Hub) forward() {
	defer close(h.done)
	buf := make([]byte, 65536)
	for {
		n, src, err := h.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable from a member that is not up yet
		}
		h.mu.Lock()
		ok := src.IP.IsLoopback() && h.members[src.Port]
		var to []int
		if ok {
			h.frames++
			for p := range h.members {
				if p != src.Port {
					to = append(to, p)
				}
			}
		}
		h.mu.Unlock()
		for _, p := range to {
			// A member that is not running drops the frame, as a cable without a NIC would.
			_, _ = h.conn.WriteToUDP(buf[:n], &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		}
	}
}
