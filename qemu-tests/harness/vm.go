package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Named default timeouts of the waits, used when the context has no deadline.
const (
	DefaultStartTimeout     = 30 * time.Second
	DefaultWaitTimeout      = 5 * time.Minute
	DefaultPowerdownTimeout = 2 * time.Minute
	// stopTimeout bounds each step of stopping QEMU: quit, then SIGKILL.
	stopTimeout = 10 * time.Second
)

// ErrPowerdownTimeout marks a guest that did not power off after an ACPI power button press
// in time: the harness then stopped QEMU itself.
var ErrPowerdownTimeout = errors.New("guest did not power off")

// VM is one running QEMU process. All methods are safe for concurrent use.
type VM struct {
	cfg       Config
	accel     string
	args      []string
	dir       string
	removeDir bool   // dir was created by Launch
	sockDir   string // short directory for the unix sockets
	files     vmFiles

	consoleLogPath, qemuLogPath string

	cmd     *exec.Cmd
	pid     int
	start   time.Time
	exited  chan struct{} // closed when QEMU has exited and was reaped
	exitErr error         // set before exited is closed

	console   *console
	serial    net.Conn
	logFile   *os.File
	qemuLog   *os.File
	qmp       *qmp
	closeOnce sync.Once
	closeErr  error
}

// Launch starts QEMU for cfg and returns when its serial console and QMP are connected. The
// caller must Close the VM; in tests, use Start, which does that.
func Launch(ctx context.Context, cfg Config) (vm *VM, err error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	vm = &VM{cfg: c, accel: c.Accel, dir: c.Dir, exited: make(chan struct{})}
	if vm.accel == "" {
		vm.accel = DetectAccel()
	}
	defer func() {
		if err != nil {
			if vm.pid != 0 {
				select { // QEMU exiting on a bad command line connects its sockets first
				case <-vm.exited:
					err = fmt.Errorf("%w; qemu exited (%v): %s", err, vm.exitErr, vm.qemuLogTail())
				case <-time.After(time.Second):
				}
			}
			_ = vm.Close()
			vm, err = nil, fmt.Errorf("start vm %s: %w", c.Name, err)
		}
	}()
	if err := vm.prepareFiles(ctx); err != nil {
		return vm, err
	}
	serialL, err := net.Listen("unix", vm.files.serialSock)
	if err != nil {
		return vm, err
	}
	defer serialL.Close()
	qmpL, err := net.Listen("unix", vm.files.qmpSock)
	if err != nil {
		return vm, err
	}
	defer qmpL.Close()

	vm.args = buildArgs(c, vm.accel, vm.files)
	if vm.qemuLog, err = os.Create(vm.qemuLogPath); err != nil {
		return vm, fmt.Errorf("create qemu log: %w", err)
	}
	program, argv := processArgv(c, vm.args)
	fmt.Fprintf(vm.qemuLog, "# %s %s\n", program, strings.Join(argv, " "))
	vm.cmd = exec.Command(program, argv...)
	vm.cmd.Stdout, vm.cmd.Stderr = vm.qemuLog, vm.qemuLog
	// Its own process group, so a terminal's ^C goes to the test only; killed with us.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	vm.start = time.Now()
	if err := vm.cmd.Start(); err != nil {
		close(vm.exited)
		return vm, fmt.Errorf("run %s: %w", c.QEMU, err)
	}
	vm.pid = vm.cmd.Process.Pid
	go func() {
		vm.exitErr = vm.cmd.Wait()
		close(vm.exited)
	}()

	startCtx, cancel := context.WithTimeout(ctx, c.StartTimeout)
	defer cancel()
	if vm.serial, err = vm.accept(startCtx, serialL); err != nil {
		return vm, fmt.Errorf("serial console: %w", err)
	}
	vm.console = newConsole(vm.start, vm.logFile)
	go vm.console.read(vm.serial)
	qmpConn, err := vm.accept(startCtx, qmpL)
	if err != nil {
		return vm, fmt.Errorf("qmp: %w", err)
	}
	if vm.qmp, err = newQMP(startCtx, qmpConn); err != nil {
		qmpConn.Close()
		return vm, err
	}
	return vm, nil
}

// prepareFiles creates the VM's directories, console log, OVMF VARS copy and disk overlay.
func (vm *VM) prepareFiles(ctx context.Context) error {
	c := vm.cfg
	var err error
	if vm.dir == "" {
		if vm.dir, err = os.MkdirTemp("", "kiln-vm-"+c.Name+"-"); err != nil {
			return err
		}
		vm.removeDir = true
	}
	logDir := orDefault(c.LogDir, vm.dir)
	vm.consoleLogPath = filepath.Join(logDir, c.Name+"-console.log")
	vm.qemuLogPath = filepath.Join(logDir, c.Name+"-qemu.log")
	if vm.logFile, err = openLog(vm.consoleLogPath); err != nil {
		return err
	}
	// Unix socket paths are limited to 107 bytes; test directories can be longer.
	if vm.sockDir, err = os.MkdirTemp("", "kiln-qemu-"); err != nil {
		return err
	}
	vm.files.serialSock = filepath.Join(vm.sockDir, "serial.sock")
	vm.files.qmpSock = filepath.Join(vm.sockDir, "qmp.sock")
	if c.Firmware == FirmwareUEFI {
		vm.files.vars = c.UEFIVars
		if vm.files.vars == "" {
			vm.files.vars = filepath.Join(vm.dir, c.Name+"-OVMF_VARS.fd")
			if err := copyFile(c.OVMFVarsTemplate, vm.files.vars); err != nil {
				return fmt.Errorf("copy ovmf vars: %w", err)
			}
		}
	}
	vm.files.disk, vm.files.diskFormat = c.Disk, c.DiskFormat
	if c.Overlay {
		overlay := filepath.Join(vm.dir, c.Name+"-overlay.qcow2")
		if err := CreateOverlay(ctx, c.QEMUImg, c.Disk, c.DiskFormat, overlay, c.OverlaySize); err != nil {
			return err
		}
		vm.files.disk, vm.files.diskFormat = overlay, "qcow2"
	}
	if c.UserNet != nil && len(c.UserNet.GuestForwards) > 0 {
		if vm.files.helper, err = os.Executable(); err != nil {
			return fmt.Errorf("guest forward helper: %w", err)
		}
		vm.files.helperLog = filepath.Join(logDir, c.Name+"-guestfwd.log")
	}
	return nil
}

// accept waits for QEMU to connect to l, and fails early when QEMU exits.
func (vm *VM) accept(ctx context.Context, l net.Listener) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		conn, err := l.Accept()
		ch <- result{conn, err}
	}()
	select {
	case r := <-ch:
		return r.conn, r.err
	case <-vm.exited:
		l.Close()
		return nil, errors.New("qemu exited before connecting")
	case <-ctx.Done():
		l.Close()
		return nil, fmt.Errorf("qemu did not connect: %w", ctx.Err())
	}
}

// qemuLogTail returns the end of QEMU's own output, for errors.
func (vm *VM) qemuLogTail() string {
	data, _ := os.ReadFile(vm.qemuLogPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// Name, PID, Accel and Args describe the VM; Dir holds its files.
func (vm *VM) Name() string   { return vm.cfg.Name }
func (vm *VM) PID() int       { return vm.pid }
func (vm *VM) Accel() string  { return vm.accel }
func (vm *VM) Args() []string { return append([]string(nil), vm.args...) }
func (vm *VM) Dir() string    { return vm.dir }

// Uptime is the time since QEMU started: power-on, on the same clock as the console lines'
// Time.
func (vm *VM) Uptime() time.Duration { return time.Since(vm.start) }

// ConsoleLog and QEMULog are the paths of the console log and of QEMU's own output.
func (vm *VM) ConsoleLog() string { return vm.consoleLogPath }
func (vm *VM) QEMULog() string    { return vm.qemuLogPath }

// Disk is the boot disk as attached (the overlay when Config.Overlay), and UEFIVars the VARS
// file: pass them as Config.Disk (DiskFormat "qcow2" for an overlay) and Config.UEFIVars to
// boot the same machine again.
func (vm *VM) Disk() string     { return vm.files.disk }
func (vm *VM) UEFIVars() string { return vm.files.vars }

// Exited is closed when QEMU has exited.
func (vm *VM) Exited() <-chan struct{} { return vm.exited }

// ExitErr is QEMU's exit status after Exited: nil for status 0.
func (vm *VM) ExitErr() error {
	<-vm.exited
	return vm.exitErr
}

// Events returns the QMP events so far, such as SHUTDOWN with its reason.
func (vm *VM) Events() []Event { return vm.qmp.recorded() }

// ShutdownReason is the reason of QEMU's last SHUTDOWN event, "" before one: "guest-shutdown"
// (the guest powered off), "guest-reset" (it rebooted, without AllowReboot), "guest-panic",
// "host-qmp-quit", "host-signal".
func (vm *VM) ShutdownReason() string {
	reason := ""
	for _, e := range vm.Events() {
		var data struct {
			Reason string `json:"reason"`
		}
		if e.Name == "SHUTDOWN" && json.Unmarshal(e.Data, &data) == nil {
			reason = data.Reason
		}
	}
	return reason
}

// QMP runs a QMP command, such as "query-status".
func (vm *VM) QMP(ctx context.Context, command string, args any) (json.RawMessage, error) {
	return vm.qmp.execute(ctx, command, args)
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}
