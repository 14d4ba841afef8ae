package harness

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// member is a UDP socket standing in for a VM on a Link.
func member(t *testing.T, l Link) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.LocalPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c *net.UDPConn, l Link, frame string) {
	t.Helper()
	if _, err := c.WriteToUDP([]byte(frame), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.RemotePort}); err != nil {
		t.Fatal(err)
	}
}

func recv(c *net.UDPConn, wait time.Duration) (string, error) {
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	n, _, err := c.ReadFromUDP(buf)
	return string(buf[:n]), err
}

func TestHub(t *testing.T) {
	hub, err := NewHub()
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	var links []Link
	var conns []*net.UDPConn
	for _, mac := range []string{"52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:03"} {
		l, err := hub.Link(mac)
		if err != nil {
			t.Fatal(err)
		}
		if l.RemotePort != hub.Port() || l.MAC != mac {
			t.Fatalf("link %+v: want remote port %d", l, hub.Port())
		}
		links, conns = append(links, l), append(conns, member(t, l))
	}
	send(t, conns[0], links[0], "frame from 1")
	for i := 1; i < 3; i++ {
		if got, err := recv(conns[i], 5*time.Second); got != "frame from 1" {
			t.Errorf("member %d got %q (%v)", i+1, got, err)
		}
	}
	if got, err := recv(conns[0], 200*time.Millisecond); err == nil {
		t.Errorf("the sender got its own frame back: %q", got)
	}
	// A datagram from a port that is no member goes nowhere.
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	send(t, stranger, links[0], "stranger")
	if got, err := recv(conns[1], 200*time.Millisecond); err == nil {
		t.Errorf("a stranger's frame was forwarded: %q", got)
	}
	if n := hub.Frames(); n != 1 {
		t.Errorf("hub forwarded %d frames, want 1", n)
	}
	if _, err := hub.Link("ff:ff:ff:ff:ff:ff"); err == nil {
		t.Error("hub accepted a broadcast MAC")
	}
}

func TestPointToPoint(t *testing.T) {
	a, b, err := PointToPoint("52:54:00:00:00:0a", "52:54:00:00:00:0b")
	if err != nil {
		t.Fatal(err)
	}
	if a.LocalPort != b.RemotePort || b.LocalPort != a.RemotePort || a.LocalPort == b.LocalPort {
		t.Fatalf("ports not crossed: %+v %+v", a, b)
	}
	ca, cb := member(t, a), member(t, b)
	send(t, ca, a, "a to b")
	if got, err := recv(cb, 5*time.Second); got != "a to b" {
		t.Errorf("got %q (%v)", got, err)
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || !validPort(p) {
			t.Errorf("ports %v: %d repeated or invalid", ports, p)
		}
		seen[p] = true
	}
}

// TestGuestFwdHelper runs the test binary as the guest forward helper, the way slirp does,
// with the "guest connection" on its stdin and stdout.
func TestGuestFwdHelper(t *testing.T) {
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	go func() {
		c, err := server.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		data, _ := io.ReadAll(c) // until the helper passes on the guest's end of input
		c.Write(append([]byte("echo: "), data...))
	}()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port := server.Addr().(*net.TCPAddr).Port
	log := filepath.Join(t.TempDir(), "guestfwd.log")
	cmd := exec.Command(exe, guestFwdArg, "127.0.0.1:"+strconv.Itoa(port), log)
	cmd.Stdin = strings.NewReader("GET / HTTP/1.0\r\n\r\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil || out.String() != "echo: GET / HTTP/1.0\r\n\r\n" {
		t.Errorf("helper: %v, output %q", err, out.String())
	}

	cmd = exec.Command(exe, guestFwdArg, "10.0.0.1:80", log)
	if out, err := cmd.CombinedOutput(); err == nil || len(out) > 0 {
		t.Errorf("helper to a target outside loopback: %v, output %q; want exit 1 and nothing to the guest", err, out)
	}
	data, _ := os.ReadFile(log)
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], "to 127.0.0.1:"+strconv.Itoa(port)+", ") || !strings.HasSuffix(lines[0], ": closed") ||
		!strings.HasSuffix(lines[1], "only 127.0.0.1 is allowed") {
		t.Errorf("helper log:\n%s", data)
	}
	// The command slirp runs quotes the executable and log for its shell-like parsing.
	if got := guestFwdCommand("/tmp/it's.test", 80, "/l/g.log"); got != `'/tmp/it'\''s.test' `+guestFwdArg+" 127.0.0.1:80 '/l/g.log'" {
		t.Errorf("command %q", got)
	}
}
