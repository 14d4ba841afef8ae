package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kilnproject/kiln/internal/common/poll"
)

// How long containerd gets to serve its socket, and to exit after SIGTERM before SIGKILL.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// clockTicksPerSecond is USER_HZ, the unit of the times in /proc/PID/stat: 100 on Linux on
// every architecture Go builds for but alpha and ia64.
const clockTicksPerSecond = 100

// namespace is where the agent imports images, and where kubelet looks for them.
const namespace = "k8s.io"

// configTemplate is containerd's configuration for a round: root, state and sockets under the
// round's directory; CRI and NRI off (no containers run, and NRI's socket is a host path); the
// opt plugin's directory moved out of /opt. The default snapshotter, overlayfs, unpacks.
const configTemplate = `version = 3
root = %q
state = %q
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.runtime",
  "io.containerd.cri.v1.images",
  "io.containerd.nri.v1.nri",
]

[grpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`

// binaries are the executables the benchmark runs.
type binaries struct {
	containerd, ctr string
}

// daemon is a containerd serving one round from a directory of its own.
type daemon struct {
	bin    binaries
	dir    string
	socket string
	log    string
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
}

// startDaemon starts containerd with its root, state and socket in dir, and waits until it
// answers on its socket. On error nothing is left running.
func startDaemon(ctx context.Context, bin binaries, dir string) (*daemon, error) {
	d := &daemon{
		bin:    bin,
		dir:    dir,
		socket: filepath.Join(dir, "containerd.sock"),
		log:    filepath.Join(dir, "containerd.log"),
		exited: make(chan struct{}),
	}
	config := filepath.Join(dir, "config.toml")
	toml := fmt.Sprintf(configTemplate, filepath.Join(dir, "root"), filepath.Join(dir, "state"), d.socket, filepath.Join(dir, "opt"))
	if err := os.WriteFile(config, []byte(toml), 0o644); err != nil {
		return nil, fmt.Errorf("write containerd's config: %w", err)
	}
	logFile, err := os.Create(d.log)
	if err != nil {
		return nil, fmt.Errorf("create containerd's log: %w", err)
	}
	d.cmd = exec.Command(bin.containerd, "--config", config)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	// Its own process group: a Ctrl-C in the terminal reaches this program, which stops it.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	go func() {
		d.cmd.Wait()
		logFile.Close()
		close(d.exited)
	}()
	if err := d.waitReady(ctx); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// waitReady waits until the socket exists and `ctr version` gets an answer through it.
func (d *daemon) waitReady(ctx context.Context) error {
	err := poll.Until(ctx, poll.Every(50*time.Millisecond).Within(readyTimeout), func(ctx context.Context) error {
		select {
		case <-d.exited:
			return poll.Stop(fmt.Errorf("containerd exited before answering (%s); its log ends:\n%s", d.cmd.ProcessState, d.logTail()))
		default:
		}
		if _, err := os.Stat(d.socket); err != nil {
			return err
		}
		return d.ctr(ctx, "version").Run()
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("containerd did not answer on %s: %w; its log ends:\n%s", d.socket, err, d.logTail())
	}
	return err
}

// stop stops containerd by its PID: SIGTERM, then SIGKILL after stopTimeout.
func (d *daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		return
	case <-time.After(stopTimeout):
	}
	progress("containerd (pid %d) still running %s after SIGTERM: SIGKILL", d.cmd.Process.Pid, stopTimeout)
	d.cmd.Process.Kill()
	<-d.exited
}

// cpuTime is the user and system time containerd has used so far, all its threads.
func (d *daemon) cpuTime() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read containerd's CPU time: %w", err)
	}
	// pid (comm) state ppid ...: comm may hold spaces, so count fields after its ")".
	// utime and stime are fields 14 and 15, the 12th and 13th after the ")".
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("read containerd's CPU time: /proc/%d/stat has %d fields", d.cmd.Process.Pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read containerd's CPU time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// ctr is a ctr command talking to this containerd in the k8s.io namespace.
func (d *daemon) ctr(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, d.bin.ctr, append([]string{"--address", d.socket, "--namespace", namespace}, args...)...)
}

// importArchive runs `ctr images import file`, as the agent does, and returns the user and
// system time ctr used.
func (d *daemon) importArchive(ctx context.Context, file string) (time.Duration, error) {
	cmd := d.ctr(ctx, "images", "import", file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("ctr images import %s: %w: %s", file, err, strings.TrimSpace(string(out)))
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// imageRefs lists the names of the images in the namespace.
func (d *daemon) imageRefs(ctx context.Context) ([]string, error) {
	out, err := d.ctr(ctx, "images", "ls", "-q").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(exitErr.Stderr)))
		}
		return nil, fmt.Errorf("ctr images ls: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// logTail is the end of containerd's log.
func (d *daemon) logTail() string {
	data, err := os.ReadFile(d.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// removeDir removes a round's directory, detaching first what a containerd stopped
// mid-unpack may have left mounted under it.
func removeDir(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	for _, m := range slices.Backward(mounts) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
	}
	return os.RemoveAll(dir)
}

// mountsUnder lists the mount points below dir, in mount order.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ...
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	return mounts, sc.Err()
}
