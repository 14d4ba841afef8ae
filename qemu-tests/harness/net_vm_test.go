package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestNetworking boots a guest that configures its NICs statically and checks every path the
// network rules allow, and one they forbid: a host forward into the guest, two guest forward
// connections to a host server, no way to the host's loopback through 10.0.2.2 (restrict=on),
// and Ethernet frames over a Link through a Hub. Then it presses the power button.
func TestNetworking(t *testing.T) {
	RequireVM(t)
	kernel, rootfs, kver := debianKernel(t, "drivers/virtio/*", "drivers/net/virtio_net.ko",
		"drivers/net/net_failover.ko", "net/core/failover.ko", "drivers/acpi/button.ko", "drivers/input/evdev.ko")
	initrd := testInitramfs(t, rootfs, kver, "virtio_pci", "virtio_net", "button", "evdev")

	// The host server behind the guest forward; it also stands for any host service the
	// guest must not reach through 10.0.2.2.
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := server.Accept()
			if err != nil {
				return
			}
			n := accepted.Add(1)
			line, _ := bufio.NewReader(c).ReadString('\n')
			fmt.Fprintf(c, "hello %d from host to %s", n, line)
			c.Close()
		}
	}()
	serverPort := server.Addr().(*net.TCPAddr).Port

	hub, err := NewHub()
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	guestLink, err := hub.Link("52:54:00:00:77:02")
	if err != nil {
		t.Fatal(err)
	}
	hostLink, err := hub.Link("52:54:00:00:77:01")
	if err != nil {
		t.Fatal(err)
	}
	member, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: hostLink.LocalPort})
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	hostFwdPort, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}

	vm := Start(t, Config{
		Name: "net", Kernel: kernel, Initrd: initrd, MemoryMiB: 512, CPUs: 1,
		Append: "console=ttyS0 panic=-1 KILNTEST=net KILNTEST_HOST=10.0.2.2:" + strconv.Itoa(serverPort),
		UserNet: &UserNet{
			HostForwards:  []HostForward{{HostPort: hostFwdPort, GuestPort: 7777}},
			GuestForwards: []GuestForward{{GuestPort: 8080, HostPort: serverPort}},
		},
		Links:    []Link{guestLink},
		BootDone: regexp.MustCompile(`testinit: net test done`),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fail := regexp.MustCompile(`testinit: FAIL|UNRESTRICTED|Kernel panic`)
	waitFor := func(re string) Line {
		t.Helper()
		i, l, err := vm.WaitForAny(ctx, regexp.MustCompile(re), fail)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			t.Fatalf("guest: %s\n%s", l.Text, vm.Tail(TailLines))
		}
		return l
	}

	waitFor(`testinit: listening on 7777`)
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(hostFwdPort)), 10*time.Second)
	if err != nil {
		t.Fatalf("host forward: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	reply, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if reply != "hello from guest\n" {
		t.Errorf("host forward: got %q (%v), want the guest's hello", reply, err)
	}

	waitFor(`testinit: guestfwd 1: hello 1 from host to ping 1 \(<nil>\)`)
	waitFor(`testinit: guestfwd 2: hello 2 from host to ping 2 \(<nil>\)`)
	waitFor(`testinit: restricted: `)
	waitFor(`testinit: waiting for the power button`)
	if n := accepted.Load(); n != 2 {
		t.Errorf("host server accepted %d connections, want the 2 guest forward connections", n)
	}

	frame := readFrame(t, member, []byte("hello over link"))
	if src := net.HardwareAddr(frame[6:12]).String(); src != guestLink.MAC {
		t.Errorf("frame over the link from %s, want the guest's %s", src, guestLink.MAC)
	}

	pdCtx, pdCancel := context.WithTimeout(ctx, time.Minute)
	defer pdCancel()
	if err := vm.Powerdown(pdCtx); err != nil {
		t.Fatal(err)
	}
	waitFor(`testinit: power button pressed`)
	requireGone(t, vm)
	if r := vm.ShutdownReason(); r != "guest-shutdown" {
		t.Errorf("shutdown reason %q, want guest-shutdown", r)
	}
}

// readFrame reads Ethernet frames from a hub member socket until one contains payload.
func readFrame(t *testing.T, member *net.UDPConn, payload []byte) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_ = member.SetReadDeadline(deadline)
		n, _, err := member.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no frame with %q over the link: %v", payload, err)
		}
		if n >= 14 && bytes.Contains(buf[:n], payload) {
			return append([]byte(nil), buf[:n]...)
		}
	}
}
