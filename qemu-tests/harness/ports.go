package harness

import (
	"fmt"
	"net"
)

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment ago: each is
// bound at once, then all are released. Another process may take one before QEMU or a test
// server binds it; the window is short and tests on a shared machine accept it.
func FreePorts(n int) ([]int, error) {
	return freePorts("tcp", n)
}

// FreeUDPPorts is FreePorts for UDP, for Links.
func FreeUDPPorts(n int) ([]int, error) {
	return freePorts("udp", n)
}

// FreePort returns one free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

func freePorts(network string, n int) ([]int, error) {
	ports := make([]int, 0, n)
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	for range n {
		switch network {
		case "tcp":
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, fmt.Errorf("find a free tcp port: %w", err)
			}
			closers = append(closers, l.Close)
			ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		default:
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				return nil, fmt.Errorf("find a free udp port: %w", err)
			}
			closers = append(closers, c.Close)
			ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
		}
	}
	return ports, nil
}
