package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/internal/contract/console"
	"golang.org/x/sys/unix"
)

// initPath is the PATH of kiln-init and the programs it runs (Ignition finds useradd through it).
const initPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// boot is the state the boot steps share.
type boot struct {
	con      *consoleOut
	cmd      Cmdline
	sys, dev string // where sysfs and devtmpfs are mounted
	root     rootDev
	netUp    bool     // the network is up (networkUp ran)
	raised   []string // interfaces networkUp set up
}

// step is one step of the boot; the steps run in order and the first failure stops the boot.
type step struct {
	name string
	run  func(ctx context.Context) error
}

// steps is the boot, in order.
func (b *boot) steps() []step {
	return []step{
		{"load kernel modules", b.loadModules},
		{"find the root device", b.findRoot},
		{"mount the root filesystem", b.mountRoot},
		{"prepare /var and /etc", b.prepareWritable},
		{"run Ignition", b.ignition},
	}
}

// Main is kiln-init: it runs the boot steps and executes systemd in the root filesystem. It
// returns only if it is not PID 1; on any failure it prints why and stops the machine there.
func Main() {
	start := time.Now()
	con := newConsole(os.Stdout, start)
	b := &boot{con: con, sys: "/sys", dev: "/dev", cmd: Cmdline{Init: DefaultInit}}
	defer func() {
		if r := recover(); r != nil {
			b.stop(fmt.Errorf("internal error: %v", r))
		}
	}()
	os.Setenv("PATH", initPath)
	if err := mountAPI(); err != nil {
		b.stop(err)
	}
	if err := setupConsole(); err != nil {
		b.stop(err)
	}
	b.openLog()
	b.con.Mark(console.InitStarted, " (kernel up %s)", uptime())
	data, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		b.stop(fmt.Errorf("read the kernel command line: %w", err))
	}
	if b.cmd, err = ParseCmdline(string(data)); err != nil {
		b.stop(err)
	}
	if b.cmd.RootURL != "" {
		if err := checkRootURL(b.cmd); err != nil {
			b.stop(err)
		}
	}
	ctx := context.Background()
	for _, s := range b.steps() {
		if err := s.run(ctx); err != nil {
			b.stop(fmt.Errorf("%s: %w", s.name, err))
		}
	}
	b.networkDown()
	unix.Sync()
	b.con.MarkBare(console.InitSwitching, " (total %.2f s)", time.Since(start).Seconds())
	b.stop(switchRoot(b.cmd.Init))
}

// openLog copies the console lines to RunLog, which stays in /run of the booted system.
func (b *boot) openLog() {
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(RunLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err == nil {
		b.con.setLog(f)
	}
}

// stop prints err and stops the machine for good: it powers off with kiln.poweroff_on_failure,
// and otherwise halts here, so that a node that failed to boot never looks healthy.
func (b *boot) stop(err error) {
	if err == nil {
		err = errors.New("switch_root returned without an error")
	}
	b.con.MarkBare(console.InitFatal, "%v; stopping", err)
	unix.Sync()
	if b.cmd.Poweroff {
		b.con.Bare("powering off (%s)", bootargs.Poweroff)
		_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
	b.con.Bare("the node stays stopped here; fix the cause above and reboot (%s powers off instead)", bootargs.Poweroff)
	for {
		time.Sleep(time.Hour)
	}
}

// loadModules loads the modules of bootmedia.InitramfsModuleList.
func (b *boot) loadModules(context.Context) error {
	f, err := os.Open(bootmedia.InitramfsModuleList)
	if err != nil {
		return err
	}
	defer f.Close()
	mods, err := parseModuleList(f)
	if err != nil {
		return err
	}
	res, err := loadModules(mods, finitModule)
	if err != nil {
		return err
	}
	for _, s := range res.Skipped {
		b.con.Printf("module %s: no such device here, skipped", s)
	}
	b.con.Printf("loaded %d kernel modules (%d were loaded already)", res.Loaded, res.Present)
	return nil
}

// findRoot waits for the root device.
func (b *boot) findRoot(ctx context.Context) error {
	if b.cmd.RootURL != "" {
		return b.fetchNetRoot(ctx)
	}
	root, err := waitForRoot(ctx, b.sys, b.dev, b.cmd.RootTimeout)
	if err != nil {
		return err
	}
	b.root = root
	b.con.Printf("found %s", root)
	return nil
}

// fetchNetRoot brings up the network and downloads the root (see netroot.go).
func (b *boot) fetchNetRoot(ctx context.Context) error {
	if err := b.networkUp(ctx, bootargs.RootURL+"="+b.cmd.RootURL); err != nil {
		return fmt.Errorf("%w: %w", ErrNetwork, err)
	}
	if err := b.fetchRoot(ctx, NetRootFile); err != nil {
		return err
	}
	b.root = rootDev{File: NetRootFile}
	return nil
}

// mountRoot mounts the root squashfs read-only.
func (b *boot) mountRoot(ctx context.Context) error {
	src, err := mountRoot(ctx, b.root, b.dev)
	if err != nil {
		return err
	}
	b.con.Printf("mounted the root squashfs (%s) read-only at %s", src, Sysroot)
	return nil
}

// prepareWritable makes /var and /etc writable: on VAR, or in RAM when booted from the ISO or
// over the network.
func (b *boot) prepareWritable(ctx context.Context) error {
	var err error
	if b.root.volatile() {
		err = b.prepareVolatileVar()
	} else {
		err = b.prepareVar(ctx)
	}
	if err != nil {
		return err
	}
	if err := b.mountVarEtcTmp(); err != nil {
		return err
	}
	where := bootmedia.LabelVar
	if b.root.volatile() {
		where = "tmpfs"
	}
	b.con.Printf("mounted /var (%s), /etc (overlay, changes in %s) and /tmp (tmpfs)", where, EtcUpperDir)
	return nil
}

// uptime is the time since the kernel started.
func uptime() string {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.2f s", time.Duration(ts.Nano()).Seconds())
}

// errNotYet is the answer of a wait's try while what it waits for is missing.
var errNotYet = errors.New("not there yet")

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
