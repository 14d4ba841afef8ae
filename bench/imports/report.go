package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// median is the middle value of ds, or the mean of the two middle ones; 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// row is one configuration's line of the table: medians over its rounds.
type row struct {
	config                      configuration
	wall, containerdCPU, ctrCPU time.Duration
	walls                       []time.Duration // each round's, in order
}

func summarize(c configuration, rounds []measurement) row {
	r := row{config: c}
	var cpu, ctrCPU []time.Duration
	for _, m := range rounds {
		r.walls = append(r.walls, m.wall)
		cpu, ctrCPU = append(cpu, m.containerdCPU), append(ctrCPU, m.ctrCPU)
	}
	r.wall, r.containerdCPU, r.ctrCPU = median(r.walls), median(cpu), median(ctrCPU)
	return r
}

// machineNote describes the machine as the benchmark starts.
func machineNote() string {
	load := "unknown"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("%d CPUs (nproc), load average %s (1, 5, 15 min) at start", runtime.NumCPU(), load)
}

// reportHeader is what the table's header says was measured.
type reportHeader struct {
	machine      string
	containerd   string // its version
	images, runs int
	gzip, zstd   variantSet
}

func printHeader(out io.Writer, h reportHeader) {
	fmt.Fprintf(out, `images phase: %d image archives imported with "ctr -n k8s.io images import" into an empty
  containerd %s (overlayfs snapshotter; fresh root per round, containerd already serving)
machine: %s
layers: gzip %s, zstd %s, %s uncompressed (compressed as internal/ociimage does)
rounds: %d per configuration, interleaved (each round runs every configuration once, in table order)
wall: first import started to last import done; CPU: user+system time, containerd's from
  /proc/PID/stat over the same span, the ctr clients' from their rusage; figures are medians
`, h.images, h.containerd, h.machine, megabytes(h.gzip.layerSize), megabytes(h.zstd.layerSize), megabytes(h.gzip.unpackedSize), h.runs)
}

// printTable prints one line per configuration; ratios are to the first ("before").
func printTable(out io.Writer, rows []row) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "configuration\tat once\twall\t× before\tcontainerd CPU\t× before\tctr CPU\twall per round")
	base := rows[0]
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.config.name, r.config.atOnce,
			seconds(r.wall), ratio(r.wall, base.wall),
			seconds(r.containerdCPU), ratio(r.containerdCPU, base.containerdCPU),
			seconds(r.ctrCPU), roundList(r.walls))
	}
	tw.Flush()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func ratio(d, base time.Duration) string {
	if base == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(base))
}

func roundList(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(s, " ")
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
