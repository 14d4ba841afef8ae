package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/kilnproject/kiln/qemu-tests/harness"
)

// report is one node's first boot as its console tells it.
type report struct {
	apiserverReady time.Duration // power-on → "[wait] kube-apiserver healthy" (control plane only)
	nodeReady      time.Duration // power-on → the Node Ready in the API (measured by the bench)
	agentTotal     time.Duration // the agent's own "first boot complete in"
	phases         []phaseTime   // in the order they ran
	footprint      string        // the agent's footprint line, as printed
}

type phaseTime struct {
	name string
	took time.Duration
}

type namedReport struct {
	name string
	report
}

var (
	phaseDone      = regexp.MustCompile(`kiln-agent\[\d+\]: \[([a-z/-]+)\] done in (\S+)`)
	apiserverReady = regexp.MustCompile(`\[wait\] kube-apiserver healthy`)
	footprintLine  = regexp.MustCompile(`\[kiln\] agent footprint: (.*)`)
)

// parseReport reads the agent's lines from a console.
func parseReport(lines []harness.Line) (report, error) {
	var r report
	for _, l := range lines {
		if m := phaseDone.FindStringSubmatch(l.Text); m != nil {
			d, err := time.ParseDuration(m[2])
			if err != nil {
				return r, fmt.Errorf("console line %d: phase %s: %w", l.N, m[1], err)
			}
			r.phases = append(r.phases, phaseTime{m[1], d})
		}
		if r.apiserverReady == 0 && apiserverReady.MatchString(l.Text) {
			r.apiserverReady = l.Time
		}
		if m := footprintLine.FindStringSubmatch(l.Text); m != nil {
			r.footprint = strings.TrimSpace(m[1])
		}
		if m := firstbootDone.FindStringSubmatch(l.Text); m != nil {
			d, err := time.ParseDuration(m[1])
			if err != nil {
				return r, fmt.Errorf("console line %d: %w", l.N, err)
			}
			r.agentTotal = d
		}
	}
	if len(r.phases) == 0 || r.agentTotal == 0 {
		return r, fmt.Errorf("the console holds no complete first boot of kiln-agent")
	}
	return r, nil
}

// printReports writes the milestones, every phase with its share of the agent's time, and the
// footprints.
func printReports(w io.Writer, reports []namedReport) {
	fmt.Fprintf(w, "%-16s %14s %14s %16s\n", "node", "→ API ready", "→ Node Ready", "agent total")
	for _, r := range reports {
		api := "-"
		if r.apiserverReady > 0 {
			api = roundDuration(r.apiserverReady)
		}
		fmt.Fprintf(w, "%-16s %14s %14s %16s\n", r.name, api, roundDuration(r.nodeReady), roundDuration(r.agentTotal))
	}
	for _, r := range reports {
		fmt.Fprintf(w, "\n%s: where the agent's %s go\n", r.name, roundDuration(r.agentTotal))
		for _, p := range r.phases {
			share := 100 * p.took.Seconds() / r.agentTotal.Seconds()
			fmt.Fprintf(w, "  %-28s %10s %5.1f%%\n", p.name, roundDuration(p.took), share)
		}
	}
	fmt.Fprintln(w)
	for _, r := range reports {
		fmt.Fprintf(w, "%s agent footprint: %s\n", r.name, r.footprint)
	}
}

func roundDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
