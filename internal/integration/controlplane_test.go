package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// controlPlane is a control plane running as host processes under root.
type controlPlane struct {
	root    string // stands in for "/" of the node: root/etc/kubernetes, root/var/lib/etcd
	bin     string
	logs    string
	ports   map[int]int // manifest port -> free loopback port
	procs   []*exec.Cmd
	stopped bool
}

// binDir returns the directory of the pinned Kubernetes binaries, or skips the test.
func binDir(t *testing.T) string {
	dir := os.Getenv("KILN_K8S_BIN")
	if dir == "" {
		if os.Getenv("KILN_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("KILN_K8S_BIN is not set: run \"make k8s\" or \"make test\"")
		}
		t.Skip("KILN_K8S_BIN is not set; \"make test\" runs this test with the pinned binaries")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("KILN_K8S_BIN=%s: %v", dir, err)
		}
	}
	return dir
}

// freePort asks the kernel for an unused loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// remap rewrites a manifest's command line for a host process: paths under /etc/kubernetes and
// /var/lib/etcd move under root, fixed ports move to free ones. Nothing else changes.
func (cp *controlPlane) remap(command []string) []string {
	out := make([]string, 0, len(command))
	for _, arg := range command {
		for _, dir := range []string{"/etc/kubernetes", "/var/lib/etcd"} {
			arg = strings.ReplaceAll(arg, "="+dir, "="+cp.root+dir)
		}
		for from, to := range cp.ports {
			arg = strings.ReplaceAll(arg, ":"+strconv.Itoa(from), ":"+strconv.Itoa(to))
		}
		out = append(out, arg)
	}
	return out
}

// start runs one static pod's container command as a process.
func (cp *controlPlane) start(t *testing.T, pod *corev1.Pod, extra ...string) {
	t.Helper()
	args := cp.remap(pod.Spec.Containers[0].Command)
	args = append(args, extra...)
	logPath := filepath.Join(cp.logs, pod.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(cp.bin, args[0]), args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", pod.Name, err)
	}
	t.Logf("started %s (pid %d), log %s", pod.Name, cmd.Process.Pid, logPath)
	cp.procs = append(cp.procs, cmd)
}

// stop ends every process this test started, by PID, newest first: SIGTERM, then SIGKILL
// after a grace period.
func (cp *controlPlane) stop(t *testing.T) {
	if cp.stopped {
		return
	}
	cp.stopped = true
	for i := len(cp.procs) - 1; i >= 0; i-- {
		cmd := cp.procs[i]
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Logf("pid %d did not stop on SIGTERM; killing it", cmd.Process.Pid)
			_ = cmd.Process.Kill()
			<-done
		}
	}
}

// dumpLogs prints the tail of each component's log when a test failed.
func (cp *controlPlane) dumpLogs(t *testing.T) {
	if !t.Failed() {
		return
	}
	entries, _ := os.ReadDir(cp.logs)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(cp.logs, e.Name()))
		lines := strings.Split(string(data), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		t.Logf("--- last lines of %s ---\n%s", e.Name(), strings.Join(lines, "\n"))
	}
}

// waitHTTP polls url until it answers 200 or the context ends.
func waitHTTP(ctx context.Context, t *testing.T, what, url string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// Health endpoints of kcm and scheduler serve self-signed certificates.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	start := time.Now()
	var last string
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("%s healthy after %s", what, time.Since(start).Round(100*time.Millisecond))
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not healthy at %s: %s", what, url, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// healthURL is where the test waits for a component: its own probe, remapped.
func (cp *controlPlane) healthURL(pod *corev1.Pod) string {
	probe := pod.Spec.Containers[0].ReadinessProbe
	if probe == nil {
		probe = pod.Spec.Containers[0].LivenessProbe
	}
	port := int(pod.Spec.Containers[0].Ports[0].ContainerPort)
	if p, ok := cp.ports[port]; ok {
		port = p
	}
	scheme := strings.ToLower(string(probe.HTTPGet.Scheme))
	return fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(probe.HTTPGet.Host, strconv.Itoa(port)), probe.HTTPGet.Path)
}
