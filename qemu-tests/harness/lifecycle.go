package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// withDefault gives ctx the deadline d from now unless it has one.
func withDefault(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Lines returns the complete console lines so far.
func (vm *VM) Lines() []Line { return vm.console.snapshot() }

// Tail returns the last n console lines as the log shows them.
func (vm *VM) Tail(n int) string { return vm.console.tail(n) }

// WaitFor waits for the first console line since boot that matches re. Without a deadline in
// ctx it waits DefaultWaitTimeout. When QEMU exits first the error wraps ErrConsoleClosed.
// Errors carry the last TailLines console lines.
func (vm *VM) WaitFor(ctx context.Context, re *regexp.Regexp) (Line, error) {
	_, l, err := vm.WaitForFrom(ctx, 0, re)
	return l, err
}

// WaitForAny waits for the first console line since boot that matches any of res and returns
// the index of the regexp that matched: a success marker and failure markers, say.
func (vm *VM) WaitForAny(ctx context.Context, res ...*regexp.Regexp) (int, Line, error) {
	return vm.WaitForFrom(ctx, 0, res...)
}

// WaitForFrom is WaitForAny over the lines from line number from on: pass a Line's N+1 to
// wait for what comes after it.
func (vm *VM) WaitForFrom(ctx context.Context, from int, res ...*regexp.Regexp) (int, Line, error) {
	ctx, cancel := withDefault(ctx, DefaultWaitTimeout)
	defer cancel()
	i, l, err := vm.console.wait(ctx, from, res)
	if err == nil {
		return i, l, nil
	}
	status := ""
	if errors.Is(err, ErrConsoleClosed) {
		select {
		case <-vm.exited:
			status = fmt.Sprintf(" (exit: %v)", exitStatus(vm.exitErr))
		case <-time.After(stopTimeout):
		}
	}
	return -1, Line{}, fmt.Errorf("vm %s: wait for %s: %w%s after %s\n%s",
		vm.cfg.Name, patterns(res), err, status, time.Since(vm.start).Round(time.Millisecond), vm.report())
}

// Wait waits for QEMU to exit by itself (the guest powered off, or rebooted without
// AllowReboot) and returns its exit status: nil for 0. Default timeout DefaultWaitTimeout.
func (vm *VM) Wait(ctx context.Context) error {
	ctx, cancel := withDefault(ctx, DefaultWaitTimeout)
	defer cancel()
	select {
	case <-vm.exited:
		if vm.exitErr != nil {
			return fmt.Errorf("vm %s: qemu: %w\n%s", vm.cfg.Name, vm.exitErr, vm.report())
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("vm %s: wait for qemu to exit: %w\n%s", vm.cfg.Name, ctx.Err(), vm.report())
	}
}

// Powerdown presses the ACPI power button (QMP system_powerdown) and waits for the guest to
// power off and QEMU to exit, DefaultPowerdownTimeout without a deadline in ctx. When it does
// not, QEMU is stopped (quit, then SIGKILL by PID) and the error wraps ErrPowerdownTimeout.
func (vm *VM) Powerdown(ctx context.Context) error {
	select {
	case <-vm.exited:
		return nil
	default:
	}
	ctx, cancel := withDefault(ctx, DefaultPowerdownTimeout)
	defer cancel()
	_, err := vm.qmp.execute(ctx, "system_powerdown", nil)
	if err == nil {
		select {
		case <-vm.exited:
			return nil
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if errors.Is(err, errQMPClosed) {
		select { // QEMU is exiting on its own
		case <-vm.exited:
			return nil
		case <-time.After(stopTimeout):
		}
	}
	stopErr := vm.stop()
	return errors.Join(fmt.Errorf("vm %s: powerdown: %w: %w\n%s", vm.cfg.Name, ErrPowerdownTimeout, err, vm.report()), stopErr)
}

// Kill ends QEMU at once with SIGKILL to its PID: a power cut for the guest.
func (vm *VM) Kill() error {
	if vm.cmd == nil || vm.pid == 0 {
		return nil
	}
	select {
	case <-vm.exited:
		return nil
	default:
	}
	// os.Process signals through a pidfd: never a process that reused the PID.
	if err := vm.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("vm %s: kill pid %d: %w", vm.cfg.Name, vm.pid, err)
	}
	select {
	case <-vm.exited:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("vm %s: pid %d still running %s after SIGKILL", vm.cfg.Name, vm.pid, stopTimeout)
	}
}

// stop ends a running QEMU: QMP quit (QEMU flushes its disk images and exits; the guest
// stops as at a power cut), then SIGKILL by PID.
func (vm *VM) stop() error {
	if vm.cmd == nil || vm.pid == 0 {
		return nil
	}
	select {
	case <-vm.exited:
		return nil
	default:
	}
	if vm.qmp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		_, _ = vm.qmp.execute(ctx, "quit", nil)
		select {
		case <-vm.exited:
			cancel()
			return nil
		case <-ctx.Done():
		}
		cancel()
	}
	return vm.Kill()
}

// Close stops QEMU if it still runs (quit, then SIGKILL by PID: use Powerdown first for a
// clean guest shutdown), closes the console and QMP connections and removes the sockets, and
// the VM's directory when Launch created it. It is safe to call more than once.
func (vm *VM) Close() error {
	vm.closeOnce.Do(func() {
		var errs []error
		errs = append(errs, vm.stop())
		if vm.qmp != nil {
			_ = vm.qmp.close()
		}
		if vm.serial != nil {
			_ = vm.serial.Close()
		}
		for _, f := range []*os.File{vm.logFile, vm.qemuLog} {
			if f != nil {
				errs = append(errs, f.Close())
			}
		}
		if vm.sockDir != "" {
			errs = append(errs, os.RemoveAll(vm.sockDir))
		}
		if vm.removeDir {
			errs = append(errs, os.RemoveAll(vm.dir))
		}
		vm.closeErr = errors.Join(errs...)
	})
	return vm.closeErr
}

// Timings returns the boot phases seen on the console so far.
func (vm *VM) Timings() []Phase {
	return phasesOf(vm.Lines(), vm.cfg.BootDone)
}

// FormatTimings is the table of Timings.
func (vm *VM) FormatTimings() string {
	return FormatTimings(vm.cfg.Name, vm.accel, vm.Timings())
}

// report is the console tail and the log paths, for errors.
func (vm *VM) report() string {
	return fmt.Sprintf("last %d console lines of %s:\n%sconsole log: %s\nqemu log: %s",
		TailLines, vm.cfg.Name, vm.console.tail(TailLines), vm.consoleLogPath, vm.qemuLogPath)
}

func patterns(res []*regexp.Regexp) string {
	s := make([]string, len(res))
	for i, re := range res {
		s[i] = fmt.Sprintf("%q", re.String())
	}
	return strings.Join(s, " or ")
}

func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
