package earlyboot

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"golang.org/x/sys/unix"
)

// apiMounts are the kernel's filesystems kiln-init mounts first and moves into the root at the end.
var apiMounts = []struct {
	fstype, target string
	flags          uintptr
	data           string
}{
	{"devtmpfs", "/dev", unix.MS_NOSUID, "mode=0755"},
	{"proc", "/proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"tmpfs", "/run", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
}

// mountAPI mounts /dev, /proc, /sys and /run. A filesystem already mounted there (EBUSY) is fine.
func mountAPI() error {
	for _, m := range apiMounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", m.target, err)
		}
		err := unix.Mount(m.fstype, m.target, m.fstype, m.flags, m.data)
		if err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	return nil
}

// mount mounts source on target, creating target, and explains the errors an initramfs usually
// meets: a filesystem type the kernel does not know (its module is missing from the initramfs)
// and a source that is not a valid filesystem of that type.
func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("mount %s on %s: %w", source, target, err)
	}
	err := unix.Mount(source, target, fstype, flags, data)
	if err == nil {
		return nil
	}
	hint := ""
	switch {
	case errors.Is(err, unix.ENODEV) && !kernelHasFS(fstype):
		hint = fmt.Sprintf(" (the kernel does not know %s: is its module in %s?)", fstype, bootmedia.InitramfsModuleList)
	case errors.Is(err, unix.EINVAL) && flags&unix.MS_MOVE == 0:
		hint = fmt.Sprintf(" (not a valid %s filesystem, or bad options %q; see the kernel messages)", fstype, data)
	}
	return fmt.Errorf("mount %s on %s (%s): %w%s", source, target, fstype, err, hint)
}

// moveMount moves the mount at from to to.
func moveMount(from, to string) error {
	if err := unix.Mount(from, to, "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move mount %s to %s: %w", from, to, err)
	}
	return nil
}

// kernelHasFS reports whether fstype is in /proc/filesystems.
func kernelHasFS(fstype string) bool {
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return true // cannot tell: no hint
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == fstype {
			return true
		}
	}
	return false
}

// mountTmpfs mounts a tmpfs with the given mode at target.
func mountTmpfs(target string, mode os.FileMode) error {
	return mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("mode=%04o", uint32(mode.Perm())|stickyBits(mode)))
}

// stickyBits is the sticky, setuid and setgid bits of mode as octal mode bits.
func stickyBits(mode os.FileMode) uint32 {
	var b uint32
	if mode&os.ModeSticky != 0 {
		b |= 0o1000
	}
	if mode&os.ModeSetgid != 0 {
		b |= 0o2000
	}
	if mode&os.ModeSetuid != 0 {
		b |= 0o4000
	}
	return b
}

// setupConsole points stdin, stdout and stderr at /dev/console of the freshly mounted devtmpfs.
func setupConsole() error {
	f, err := os.OpenFile("/dev/console", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open /dev/console: %w", err)
	}
	defer f.Close()
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(int(f.Fd()), fd, 0); err != nil {
			return fmt.Errorf("dup /dev/console to fd %d: %w", fd, err)
		}
	}
	return nil
}
