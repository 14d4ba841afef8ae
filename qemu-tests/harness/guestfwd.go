package harness

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// guestFwdArg is the first argument that turns a process of a binary linking this package into
// a guest forward helper (see init).
const guestFwdArg = "__kiln_harness_guestfwd"

// guestFwdDrain bounds how long the helper keeps reading the host side after the guest side
// ended: long enough for any reply, short enough not to outlive a dead QEMU for long.
const guestFwdDrain = 60 * time.Second

// A guest forward with a chardev target ("guestfwd=…-tcp:127.0.0.1:PORT") connects once, when
// QEMU starts (failing when nothing listens yet), and funnels every guest connection into that
// one stream. A "cmd:" target instead runs a program per guest connection with the connection
// on its stdin and stdout. The program is the running binary itself: QEMU runs it with
// guestFwdArg and the host address, and init turns that process into a two-way copy to
// 127.0.0.1:PORT. slirp spawns it detached (double fork, new session); it ends when either
// side closes.
//
// The helper's stdin, stdout and stderr are all the guest connection, so it reports to the
// log file named by its third argument instead, one line per connection.
func init() {
	if len(os.Args) == 4 && os.Args[1] == guestFwdArg {
		start := time.Now()
		err := guestFwdMain(os.Args[2])
		result := "closed"
		if err != nil {
			result = err.Error()
		}
		if f, ferr := os.OpenFile(os.Args[3], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); ferr == nil {
			fmt.Fprintf(f, "%s guest connection to %s, %s: %s\n", start.Format(time.RFC3339Nano), os.Args[2],
				time.Since(start).Round(time.Millisecond), result)
			f.Close()
		}
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// guestFwdCommand is the slirp cmd: line of a guest forward to 127.0.0.1:hostPort that logs
// to logPath.
func guestFwdCommand(helper string, hostPort int, logPath string) string {
	return shellQuote(helper) + " " + guestFwdArg + " 127.0.0.1:" + strconv.Itoa(hostPort) + " " + shellQuote(logPath)
}

// guestFwdMain copies between the guest connection on stdin/stdout and a new connection to
// addr, which must be on 127.0.0.1.
func guestFwdMain(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return fmt.Errorf("refusing target %q: only 127.0.0.1 is allowed", addr)
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	tcp := conn.(*net.TCPConn)
	go func() {
		_, _ = io.Copy(tcp, os.Stdin)
		_ = tcp.CloseWrite()
		// The guest side ended (a half-close, or QEMU went away): leave the host a while to
		// answer, then give up.
		_ = tcp.SetReadDeadline(time.Now().Add(guestFwdDrain))
	}()
	// The host side ended: the guest can get no more answers, so the helper is done.
	if _, err := io.Copy(os.Stdout, tcp); err != nil {
		return fmt.Errorf("host to guest: %w", err)
	}
	return nil
}
