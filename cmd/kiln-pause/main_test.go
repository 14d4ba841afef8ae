package main

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testVersion = "v0.0.0-test"

// pauseBin is the kiln-pause binary TestMain builds statically, as the image build does.
var pauseBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kiln-pause-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pauseBin = filepath.Join(dir, "pause")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion, "-o", pauseBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build kiln-pause: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestStatic(t *testing.T) {
	f, err := elf.Open(pauseBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %s program header: it is not static", p.Type)
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(pauseBin, "-v").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "kiln-pause "+testVersion {
		t.Errorf("pause -v: %v, output %q, want %q", err, out, "kiln-pause "+testVersion)
	}
}

// start runs cmd and waits until pause handles signals (it then prints its warning line).
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // a no-op once stop saw it exit
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "pause should be the first process") {
		t.Fatalf("first stderr line %q (%v), want the PID 1 warning", line, err)
	}
}

// stop sends sig and checks that pause exits 0 within a second.
func stop(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after %s: %v, want exit status 0", sig, err)
		}
	case <-time.After(time.Second):
		t.Errorf("still running a second after %s", sig)
	}
}

func TestExitsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(pauseBin)
			start(t, cmd)
			time.Sleep(50 * time.Millisecond) // still running: it blocks rather than exits
			if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
				t.Fatalf("pause is gone before the signal: %v", err)
			}
			stop(t, cmd, sig)
		})
	}
}

func TestReapsZombies(t *testing.T) {
	// The shell's background child becomes pause's child when the shell execs pause.
	cmd := exec.Command("/bin/sh", "-c", `sleep 0.3 & echo $!; exec "$0"`, pauseBin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("/proc/%d/stat", child)
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(stat)
		if errors.Is(err, fs.ErrNotExist) {
			break // exited and reaped
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d not reaped: %s", child, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop(t, cmd, syscall.SIGTERM)
}
