package hostcontrolplane

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// stopGrace is how long Stop waits for a process after SIGTERM before it sends SIGKILL.
const stopGrace = 15 * time.Second

// Restart delays of a static pod's process that exited: kubelet's crash-loop backoff, shorter.
const (
	restartDelayMin = time.Second
	restartDelayMax = 10 * time.Second
)

// errStopping refuses a restart once Stop began.
var errStopping = errors.New("stopping")

// hostDirs are the node paths the manifests name that move under NodeRoot on the host.
var hostDirs = []string{"/etc/kubernetes", "/var/lib/etcd"}

// remap rewrites a manifest's command line for a host process: paths under /etc/kubernetes and
// /var/lib/etcd move under NodeRoot, fixed ports move to free ones. Nothing else changes.
func (cp *ControlPlane) remap(command []string) []string {
	out := make([]string, 0, len(command))
	for _, arg := range command {
		for _, dir := range hostDirs {
			arg = strings.ReplaceAll(arg, "="+dir, "="+cp.NodeRoot+dir)
		}
		for from, to := range cp.ports {
			arg = strings.ReplaceAll(arg, ":"+strconv.Itoa(from), ":"+strconv.Itoa(to))
		}
		out = append(out, arg)
	}
	return out
}

// process is one static pod's container run as a host process, restarted when it exits.
type process struct {
	name string
	cmd  *exec.Cmd     // the current run
	done chan struct{} // closed when the current run has exited
}

// runPod runs one static pod's container command, plus extra arguments, as a process whose
// output goes to LogDir/<pod name>.log, and restarts it with a growing delay whenever it exits,
// until Stop. The process gets its own process group (a terminal's Ctrl-C reaches only the
// caller, which stops it) and is killed if the caller dies.
func (cp *ControlPlane) runPod(pod *corev1.Pod, extra ...string) error {
	args := append(cp.remap(pod.Spec.Containers[0].Command), extra...)
	p := &process{name: pod.Name}
	if err := cp.startRun(p, args); err != nil {
		return err
	}
	cp.mu.Lock()
	cp.procs = append(cp.procs, p)
	cp.mu.Unlock()
	go cp.keep(p, args)
	return nil
}

// startRun starts one run of p.
func (cp *ControlPlane) startRun(p *process, args []string) error {
	logPath := cp.logPath(p.name)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the process holds its own copy
	cmd := exec.Command(filepath.Join(cp.BinDir, args[0]), args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stopping {
		return errStopping
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() { _ = cmd.Wait(); close(done) }()
	cp.logf("started %s (pid %d), log %s", p.name, cmd.Process.Pid, logPath)
	return nil
}

// keep restarts p each time it exits, until Stop.
func (cp *ControlPlane) keep(p *process, args []string) {
	delay := restartDelayMin
	for {
		cp.mu.Lock()
		done, cmd := p.done, p.cmd
		cp.mu.Unlock()
		<-done
		cp.mu.Lock()
		stopping := cp.stopping
		cp.mu.Unlock()
		if stopping {
			return
		}
		cp.logf("%s (pid %d) exited (%s); restarting in %s", p.name, cmd.Process.Pid, cmd.ProcessState, delay)
		time.Sleep(delay)
		if err := cp.startRun(p, args); err != nil {
			if !errors.Is(err, errStopping) {
				cp.logf("%v", err)
			}
			return
		}
		delay = min(2*delay, restartDelayMax)
	}
}

// Stop ends every process Start started, by PID, newest first: SIGTERM, then SIGKILL after a
// grace period; no process is restarted afterwards. Calling it again does nothing.
func (cp *ControlPlane) Stop() {
	cp.stopOnce.Do(func() {
		cp.mu.Lock()
		cp.stopping = true
		procs := cp.procs
		healthz := cp.healthz
		cp.mu.Unlock()
		for i := len(procs) - 1; i >= 0; i-- {
			cp.stopProcess(procs[i])
		}
		if healthz != nil {
			_ = healthz.Close()
		}
		if cp.agentLog != nil {
			_ = cp.agentLog.Close()
		}
	})
}

func (cp *ControlPlane) stopProcess(p *process) {
	cp.mu.Lock()
	cmd, done := p.cmd, p.done
	cp.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopGrace):
		cp.logf("pid %d did not stop on SIGTERM within %s; killing it", cmd.Process.Pid, stopGrace)
		_ = cmd.Process.Kill()
		<-done
	}
}

func (cp *ControlPlane) logPath(component string) string {
	return filepath.Join(cp.LogDir, component+".log")
}

// LogTails returns the last n lines of each component's log (and the agent's), each under a
// header line.
func (cp *ControlPlane) LogTails(n int) string {
	entries, _ := os.ReadDir(cp.LogDir)
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "--- last lines of %s ---\n%s\n", e.Name(), tail(filepath.Join(cp.LogDir, e.Name()), n))
	}
	return b.String()
}

// tail returns the last n lines of the file at path, or why it cannot.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
