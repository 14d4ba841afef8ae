// Command testinit is PID 1 of the harness's own test VMs (built for linux/amd64, static). It
// prints "hello from init" on /dev/console and powers the machine off. With KILNTEST=net on
// the kernel command line (the kernel hands such words to init's environment) it loads the
// modules listed in /etc/kiln/modules (bootmedia.InitramfsModuleList), configures eth0 (user
// networking) and eth1 (a Link) statically, exercises a host forward, two guest forward
// connections, the restriction of user networking and a broadcast over the Link, then powers
// off when the ACPI power button is pressed.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

const sysFinitModule = 313 // finit_module(2) on amd64

var console io.Writer = os.Stdout

func say(format string, args ...any) {
	fmt.Fprintf(console, "testinit: "+format+"\n", args...)
}

func main() {
	if f, err := os.OpenFile("/dev/console", os.O_WRONLY, 0); err == nil {
		console = f
	}
	fmt.Fprintln(console, "hello from init")
	if os.Getenv("KILNTEST") == "net" {
		if err := netTest(); err != nil {
			say("FAIL: %v", err)
		}
		say("net test done")
		if err := waitPowerButton(); err != nil {
			say("FAIL: power button: %v", err)
			select {}
		}
		say("power button pressed")
	}
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		say("power off: %v", err)
	}
	select {}
}

func netTest() error {
	data, err := os.ReadFile(bootmedia.InitramfsModuleList)
	if err != nil {
		return err
	}
	for _, m := range strings.Fields(string(data)) {
		if err := loadModule(m); err != nil {
			return fmt.Errorf("load %s: %w", m, err)
		}
	}
	if err := ifUp("eth0", [4]byte{10, 0, 2, 15}); err != nil {
		return err
	}
	if err := ifUp("eth1", [4]byte{192, 168, 77, 2}); err != nil {
		return err
	}
	l, err := net.Listen("tcp", ":7777")
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "hello from guest")
			c.Close()
		}
	}()
	say("listening on 7777")
	for i := 1; i <= 2; i++ {
		c, err := net.DialTimeout("tcp", "10.0.2.100:8080", 10*time.Second)
		if err != nil {
			return fmt.Errorf("guest forward %d: %w", i, err)
		}
		fmt.Fprintf(c, "ping %d\n", i)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, err := io.ReadAll(c)
		c.Close()
		say("guestfwd %d: %s (%v)", i, strings.TrimSpace(string(reply)), err)
	}
	if c, err := net.DialTimeout("tcp", os.Getenv("KILNTEST_HOST"), 3*time.Second); err != nil {
		say("restricted: %v", err)
	} else {
		c.Close()
		say("UNRESTRICTED: connected to %s", os.Getenv("KILNTEST_HOST"))
	}
	u, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(192, 168, 77, 255), Port: 9999})
	if err != nil {
		return err
	}
	raw, _ := u.SyscallConn()
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	})
	for range 3 {
		if _, err := u.Write([]byte("hello over link")); err != nil {
			say("link send: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	say("link sent")
	return nil
}

// waitPowerButton waits for KEY_POWER on any input device (the ACPI button driver's).
func waitPowerButton() error {
	if err := syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, ""); err != nil {
		return fmt.Errorf("mount devtmpfs: %w", err)
	}
	devs, _ := filepath.Glob("/dev/input/event*")
	if len(devs) == 0 {
		return fmt.Errorf("no input devices")
	}
	pressed := make(chan struct{})
	var once sync.Once
	for _, d := range devs {
		f, err := os.Open(d) // before saying we wait: a press must not come before the open
		if err != nil {
			return err
		}
		go func() {
			var ev [24]byte // struct input_event: timeval, type, code, value
			for {
				if _, err := io.ReadFull(f, ev[:]); err != nil {
					return
				}
				typ, code := binary.LittleEndian.Uint16(ev[16:]), binary.LittleEndian.Uint16(ev[18:])
				if typ == 1 && code == 116 && binary.LittleEndian.Uint32(ev[20:]) == 1 { // EV_KEY KEY_POWER down
					once.Do(func() { close(pressed) })
				}
			}
		}()
	}
	say("waiting for the power button on %d input devices", len(devs))
	<-pressed
	return nil
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	params := []byte{0}
	_, _, e := syscall.Syscall(sysFinitModule, f.Fd(), uintptr(unsafe.Pointer(&params[0])), 0)
	if e != 0 && e != syscall.EEXIST {
		return e
	}
	return nil
}

// ifreq is struct ifreq: a name and a 24-byte union, here a sockaddr_in or the flags.
type ifreq struct {
	name [16]byte
	data [24]byte
}

func ifUp(name string, ip [4]byte) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	ioctl := func(req uintptr, r *ifreq) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(r))); e != 0 {
			return fmt.Errorf("%s: ioctl %#x: %w", name, req, e)
		}
		return nil
	}
	addr := func(a [4]byte) *ifreq {
		r := &ifreq{}
		copy(r.name[:], name)
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&r.data[0]))
		sa.Family, sa.Addr = syscall.AF_INET, a
		return r
	}
	var err2 error
	for range 50 { // the NIC appears when its driver has probed it
		if err2 = ioctl(syscall.SIOCSIFADDR, addr(ip)); err2 == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err2 != nil {
		return err2
	}
	if err := ioctl(syscall.SIOCSIFNETMASK, addr([4]byte{255, 255, 255, 0})); err != nil {
		return err
	}
	r := &ifreq{}
	copy(r.name[:], name)
	if err := ioctl(syscall.SIOCGIFFLAGS, r); err != nil {
		return err
	}
	*(*uint16)(unsafe.Pointer(&r.data[0])) |= syscall.IFF_UP
	if err := ioctl(syscall.SIOCSIFFLAGS, r); err != nil {
		return err
	}
	say("%s up with %d.%d.%d.%d/24", name, ip[0], ip[1], ip[2], ip[3])
	return nil
}
