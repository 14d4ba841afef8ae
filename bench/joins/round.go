package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounds of a round beyond the joins' own timeout.
const (
	readyTimeout   = 2 * time.Minute // for every node process to start and make its key
	resultSlack    = time.Minute     // after the join timeout, for a node to report
	progressPeriod = 10 * time.Second
)

// round is one measurement: N nodes joining at once.
type round struct {
	results []result
	wall    time.Duration // from "go" to the last result
}

// runRound starts one node process per job (self is this program), waits until all are ready,
// tells them to go at once, and collects what each reports. A node that fails to start or to
// report is a failed join. Every node process is gone when it returns: each is killed by PID
// when ctx ends.
func runRound(ctx context.Context, self string, jobs []job, progress func(format string, args ...any)) round {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout+jobs[0].Timeout+resultSlack)
	defer cancel()
	nodes := make([]*nodeProcess, len(jobs))
	var ready sync.WaitGroup
	for i, j := range jobs {
		nodes[i] = &nodeProcess{job: j, ready: make(chan struct{})}
		ready.Add(1)
		go func() { defer ready.Done(); nodes[i].start(ctx, self) }()
	}
	ready.Wait()
	progress("%d node processes ready; joining", countReady(nodes))

	var done sync.WaitGroup
	var finished atomic.Int64
	start := time.Now()
	for _, n := range nodes {
		done.Add(1)
		go func() { defer done.Done(); n.finish(); finished.Add(1) }()
	}
	stopProgress := reportProgress(&finished, len(nodes), progress)
	done.Wait()
	stopProgress()

	r := round{results: make([]result, len(nodes))}
	for i, n := range nodes {
		r.results[i] = n.result
		if !n.reported.IsZero() {
			r.wall = max(r.wall, n.reported.Sub(start))
		}
	}
	return r
}

// reportProgress prints how many nodes have finished every progressPeriod until stopped.
func reportProgress(finished *atomic.Int64, total int, progress func(format string, args ...any)) (stop func()) {
	ticker := time.NewTicker(progressPeriod)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
				progress("%d/%d nodes finished", finished.Load(), total)
			}
		}
	}()
	return func() { ticker.Stop(); close(quit) }
}

// nodeProcess is the parent's handle on one simulated node.
type nodeProcess struct {
	job      job
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stdout   *bufio.Reader
	stderr   bytes.Buffer
	ready    chan struct{} // closed when the node said ready
	err      error         // why the node did not report, if it did not
	result   result        // its report, or the failure to get one
	reported time.Time     // when its report arrived
}

// start runs the node process, hands it its job and waits for "ready". On failure the node's
// result records why.
func (n *nodeProcess) start(ctx context.Context, self string) {
	n.cmd = exec.CommandContext(ctx, self)
	n.cmd.Env = append(os.Environ(), nodeEnv+"=1")
	n.cmd.Stderr = &n.stderr
	// Its own process group, so a terminal's Ctrl-C reaches only the parent, which kills every
	// node by PID (exec.CommandContext does on ctx's end); killed too if the parent dies.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	n.cmd.WaitDelay = 5 * time.Second
	var stdout io.Reader
	n.stdin, n.err = n.cmd.StdinPipe()
	if n.err == nil {
		stdout, n.err = n.cmd.StdoutPipe()
	}
	if n.err == nil {
		n.err = n.cmd.Start()
	}
	if n.err != nil {
		n.err = fmt.Errorf("start node process: %w", n.err)
		n.cmd = nil
		return
	}
	n.stdout = bufio.NewReader(stdout)
	if err := json.NewEncoder(n.stdin).Encode(n.job); err != nil {
		n.err = fmt.Errorf("send job: %w", err)
		return
	}
	if line, err := n.stdout.ReadString('\n'); err != nil || line != readyLine+"\n" {
		n.err = fmt.Errorf("not ready: got %q (%v)", line, err)
		return
	}
	close(n.ready)
}

// finish tells a ready node to go, reads its result, and waits for the process to end. A node
// that is not ready gets its stdin closed, which ends it.
func (n *nodeProcess) finish() {
	if n.cmd != nil {
		n.readResult()
		n.stdin.Close()
		if err := n.cmd.Wait(); err != nil && n.err == nil && n.reported.IsZero() {
			n.err = err
		}
	}
	if n.err != nil {
		n.result = result{NodeName: n.job.NodeName, Err: "node process: " + n.err.Error()}
		if s := strings.TrimSpace(n.stderr.String()); s != "" {
			n.result.Err += ": " + s[max(0, len(s)-300):]
		}
	}
}

func (n *nodeProcess) readResult() {
	if !n.isReady() {
		return
	}
	if _, err := fmt.Fprintln(n.stdin, goLine); err != nil {
		n.err = fmt.Errorf("send %q: %w", goLine, err)
		return
	}
	line, err := n.stdout.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &n.result)
	}
	if err != nil {
		n.err = fmt.Errorf("read result: %w", err)
		return
	}
	n.reported = time.Now()
}

func (n *nodeProcess) isReady() bool {
	select {
	case <-n.ready:
		return true
	default:
		return false
	}
}

func countReady(nodes []*nodeProcess) int {
	c := 0
	for _, n := range nodes {
		if n.isReady() {
			c++
		}
	}
	return c
}
