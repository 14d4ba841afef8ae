package hostcontrolplane

import (
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

// startProcess runs one static pod's container command, plus extra arguments, as a process
// whose output goes to LogDir/<pod name>.log. The process gets its own process group (a
// terminal's Ctrl-C reaches only the caller, which stops it) and is killed if the caller dies.
func (cp *ControlPlane) startProcess(pod *corev1.Pod, extra ...string) error {
	args := append(cp.remap(pod.Spec.Containers[0].Command), extra...)
	if err := os.MkdirAll(cp.LogDir, 0o755); err != nil {
		return err
	}
	logPath := cp.logPath(pod.Name)
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the process holds its own copy
	cmd := exec.Command(filepath.Join(cp.BinDir, args[0]), args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", pod.Name, err)
	}
	cp.logf("started %s (pid %d), log %s", pod.Name, cmd.Process.Pid, logPath)
	cp.procs = append(cp.procs, cmd)
	return nil
}

// Stop ends every process Start started, by PID, newest first: SIGTERM, then SIGKILL after a
// grace period. Calling it again does nothing.
func (cp *ControlPlane) Stop() {
	cp.stopOnce.Do(func() {
		for i := len(cp.procs) - 1; i >= 0; i-- {
			cp.stopProcess(cp.procs[i])
		}
	})
}

func (cp *ControlPlane) stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
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

// LogTails returns the last n lines of each component's log, each under a header line.
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
