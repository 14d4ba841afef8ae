// Command joins measures joins at scale: one kiln control plane (package hostcontrolplane: the
// agent's first-boot phases, with kiln's static pods as host processes on loopback, up to the
// init objects), then rounds of N simulated nodes joining at once. Each join is what
// a worker does up to its kubelet's client certificate, through the code the agent and the
// kubelet run: token discovery with the CA pin (internal/discovery), then TLS bootstrap
// (internal/tlsbootstrap): a CSR with the cluster's one bootstrap token, auto-approved and
// signed by the real kube-controller-manager.
//
// It prints a table (N, successes, p50, p99 and max join latency, wall time, per-phase
// latencies) and each failure; it never fails on timing or on failed joins. It exits non-zero
// only when the control plane cannot be set up, or when interrupted. Every process it starts
// is stopped by PID, also on Ctrl-C.
//
//	go run ./bench/joins --joins 10,50,100 --bin "$KILN_K8S_BIN"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplane"
	"github.com/kilnproject/kiln/internal/testkit/tlsbootstrap"
)

// options are the command-line flags.
type options struct {
	joins   []int         // N of each round, in order
	binDir  string        // the pinned Kubernetes binaries
	workDir string        // where the control plane keeps its files; a temporary one if empty
	keep    bool          // keep workDir (with the components' logs) afterwards
	timeout time.Duration // bounds each join
}

func main() {
	if os.Getenv(nodeEnv) == "1" {
		if err := runNode(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "joins node:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "joins:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = bench(ctx, o, os.Stdout)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "joins: interrupted; every process it started has been stopped")
		return 130
	case err != nil:
		fmt.Fprintln(os.Stderr, "joins:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("joins", flag.ContinueOnError)
	joins := fs.String("joins", "10,50,100", "comma-separated numbers of nodes joining at once, one round each")
	o := &options{}
	fs.StringVar(&o.binDir, "bin", os.Getenv(hostcontrolplane.EnvBinDir), "directory of the pinned Kubernetes binaries (default $"+hostcontrolplane.EnvBinDir+")")
	fs.StringVar(&o.workDir, "workdir", "", "directory for the control plane's files (default: a temporary one, removed afterwards)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory, with the components' logs")
	fs.DurationVar(&o.timeout, "timeout", tlsbootstrap.DefaultTimeout, "bound of each join")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, field := range strings.Split(*joins, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--joins %q: want positive numbers separated by commas", *joins)
		}
		o.joins = append(o.joins, n)
	}
	if o.binDir == "" {
		return nil, fmt.Errorf("no Kubernetes binaries: set --bin or $%s (\"make k8s\" builds them)", hostcontrolplane.EnvBinDir)
	}
	if o.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	return o, nil
}

// progress prints a progress line to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[joins] "+format+"\n", args...)
}

// bench sets up the control plane, runs the rounds and prints the report to out.
func bench(ctx context.Context, o *options, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to run nodes with: %w", err)
	}
	workDir := o.workDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "kiln-bench-joins-"); err != nil {
			return err
		}
	}
	if o.keep {
		defer progress("kept %s (component logs in %s)", workDir, filepath.Join(workDir, "logs"))
	} else {
		defer os.RemoveAll(workDir)
	}

	progress("starting the control plane in %s", workDir)
	cp, err := hostcontrolplane.Start(ctx, hostcontrolplane.Options{BinDir: o.binDir, WorkDir: workDir, Logf: progress})
	if err != nil {
		return fmt.Errorf("the control plane did not start: %w", err)
	}
	defer cp.Stop() // runs before the work directory is removed
	if err := initCluster(ctx, cp, progress); err != nil {
		if ctx.Err() == nil {
			fmt.Fprint(os.Stderr, cp.LogTails(20))
		}
		return err
	}

	printHeader(out, o, cp)
	var rows []summary
	for i, n := range o.joins {
		roundProgress := func(format string, args ...any) { progress("N=%d: "+format, append([]any{n}, args...)...) }
		roundProgress("starting %d node processes", n)
		r := runRound(ctx, self, jobs(cp, i+1, n, o.timeout), roundProgress)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s := summarize(r)
		roundProgress("%d/%d joined; wall %s", s.ok, s.n, s.wall.Round(time.Millisecond))
		rows = append(rows, s)
	}
	fmt.Fprintln(out)
	printTable(out, rows)
	return nil
}

// initCluster waits until the bootstrap signer has signed cluster-info for the token (the
// first boot's phases applied the init objects), so that the first round does not measure it.
func initCluster(ctx context.Context, cp *hostcontrolplane.ControlPlane, progress func(format string, args ...any)) error {
	progress("waiting for the bootstrap signer to sign cluster-info for token %s", cp.Tokens[0].ID)
	return cp.WaitForClusterInfoSignature(ctx, cp.Tokens[0].ID)
}

// jobs describes the n nodes of round number roundNo: one bootstrap token for all, as an
// operator bakes one into the worker configuration; a unique name each.
func jobs(cp *hostcontrolplane.ControlPlane, roundNo, n int, timeout time.Duration) []job {
	js := make([]job, n)
	for i := range js {
		js[i] = job{
			Endpoint:    cp.Endpoint,
			Token:       cp.Tokens[0].Value(),
			CAPin:       cp.CAPin,
			ClusterName: cp.Config.Cluster.ClusterName,
			NodeName:    fmt.Sprintf("bench-r%d-node-%03d", roundNo, i+1),
			Timeout:     timeout,
		}
	}
	return js
}

// printHeader says what was measured, and how.
func printHeader(out io.Writer, o *options, cp *hostcontrolplane.ControlPlane) {
	version, err := exec.Command(filepath.Join(o.binDir, "kube-apiserver"), "--version").Output()
	if err != nil {
		version = []byte("kube-apiserver --version: " + err.Error())
	}
	fmt.Fprintf(out, `joins at scale: N nodes join one control plane at once, N = %s
control plane: kiln's static pods (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) as
  host processes on loopback, %s; brought up and given its init objects by the first-boot phases
join: token discovery with the CA pin, then TLS bootstrap (CSR with the cluster's one bootstrap token,
  auto-approved and signed by kube-controller-manager); timeout %s
nodes: one process each (not goroutines: separate connections, as separate machines), started and
  keyed (ECDSA P-256) before the clock starts, on the same %d cores as the control plane
latency: per join, from "go" to the signed client certificate in hand; percentiles by nearest rank
  over the successful joins (p99 is the max below 100 joins); wall: "go" to the last result
`, joinsList(o.joins), strings.TrimSpace(string(version)), o.timeout, runtime.NumCPU())
}

func joinsList(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
