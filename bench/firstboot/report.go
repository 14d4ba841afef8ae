package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	kilnconsole "github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/qemu-tests/harness"
)

// variant is how a node's first boot is done: by kiln-agent, or by stock kubeadm on the same
// image (kubeadm.go).
type variant string

const (
	variantKiln    variant = "kiln"
	variantKubeadm variant = "kubeadm"
)

func parseVariants(s string) ([]variant, error) {
	var vs []variant
	for _, name := range strings.Split(s, ",") {
		v := variant(strings.TrimSpace(name))
		if v != variantKiln && v != variantKubeadm {
			return nil, fmt.Errorf("--variants: unknown variant %q (want kiln, kubeadm or both)", name)
		}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return vs, nil
}

// console is what a variant's first boot prints: "[phase] done in 1.2s" per phase, a line when
// the API server answers, and a last line with the total.
type console struct {
	phaseDone      *regexp.Regexp // name, duration
	apiserverReady *regexp.Regexp
	complete       *regexp.Regexp // total
	failed         *regexp.Regexp
	footprint      *regexp.Regexp // kiln-agent only
}

var consoles = map[variant]console{
	variantKiln: {
		phaseDone:      regexp.MustCompile(`kiln-agent\[\d+\]: \[([a-z/-]+)\] done in (\S+)`),
		apiserverReady: regexp.MustCompile(`\[wait\] kube-apiserver healthy`),
		complete:       regexp.MustCompile(regexp.QuoteMeta(kilnconsole.FirstbootComplete) + `(\S+):`),
		failed:         regexp.MustCompile(`\[[a-z/-]+` + regexp.QuoteMeta(kilnconsole.FirstbootFailed)),
		footprint:      regexp.MustCompile(`\[kiln\] agent footprint: (.*)`),
	},
	variantKubeadm: {
		phaseDone:      regexp.MustCompile(`kubeadm-firstboot\[\d+\]: \[([a-z/-]+)\] done in (\S+)`),
		apiserverReady: regexp.MustCompile(`\[control-plane-check\] kube-apiserver is healthy`),
		complete:       regexp.MustCompile(`\[kubeadm-firstboot\] first boot complete in (\S+):`),
		failed:         regexp.MustCompile(`kubeadm-firstboot\.service: (Main process exited|Failed with result)|Failed to start .*kubeadm`),
	},
}

func consoleOf(v variant) console { return consoles[v] }

// report is one node's first boot as its console tells it.
type report struct {
	apiserverReady time.Duration // power-on → the API server healthy (control plane only)
	nodeReady      time.Duration // power-on → the Node Ready in the API (measured by the bench)
	agentTotal     time.Duration // the first boot's own "first boot complete in"
	phases         []phaseTime   // in the order they ran
	footprint      string        // kiln-agent's footprint line, as printed
}

type phaseTime struct {
	name string
	took time.Duration
}

type namedReport struct {
	name string
	report
}

// parseReport reads a first boot's lines from a console.
func parseReport(c console, lines []harness.Line) (report, error) {
	var r report
	for _, l := range lines {
		if m := c.phaseDone.FindStringSubmatch(l.Text); m != nil {
			d, err := time.ParseDuration(m[2])
			if err != nil {
				return r, fmt.Errorf("console line %d: phase %s: %w", l.N, m[1], err)
			}
			r.phases = append(r.phases, phaseTime{m[1], d})
		}
		if r.apiserverReady == 0 && c.apiserverReady.MatchString(l.Text) {
			r.apiserverReady = l.Time
		}
		if c.footprint != nil {
			if m := c.footprint.FindStringSubmatch(l.Text); m != nil {
				r.footprint = strings.TrimSpace(m[1])
			}
		}
		if m := c.complete.FindStringSubmatch(l.Text); m != nil {
			d, err := time.ParseDuration(m[1])
			if err != nil {
				return r, fmt.Errorf("console line %d: %w", l.N, err)
			}
			r.agentTotal = d
		}
	}
	if len(r.phases) == 0 || r.agentTotal == 0 {
		return r, fmt.Errorf("the console holds no complete first boot")
	}
	return r, nil
}

// milestone is one number compared across variants.
type milestone struct {
	name string
	of   func(clusterBoot) time.Duration
}

var milestones = []milestone{
	{"control plane: power-on → API server healthy", func(b clusterBoot) time.Duration { return b.controlPlane.apiserverReady }},
	{"control plane: power-on → Node Ready", func(b clusterBoot) time.Duration { return b.controlPlane.nodeReady }},
	{"worker: power-on → Node Ready", func(b clusterBoot) time.Duration { return b.worker.nodeReady }},
	{"control plane: images phase", func(b clusterBoot) time.Duration { return b.controlPlane.phase("images") }},
	{"worker: images phase", func(b clusterBoot) time.Duration { return b.worker.phase("images") }},
}

func (r report) phase(name string) time.Duration {
	for _, p := range r.phases {
		if p.name == name {
			return p.took
		}
	}
	return 0
}

// printComparison writes each milestone's median per variant and, with both variants, the
// ratio kubeadm / kiln (above 1: kiln is faster).
func printComparison(w io.Writer, variants []variant, results map[variant][]clusterBoot) {
	fmt.Fprintf(w, "%-46s", "median")
	for _, v := range variants {
		fmt.Fprintf(w, " %12s", v)
	}
	both := len(variants) == 2
	if both {
		fmt.Fprintf(w, " %16s", variants[1]+" / "+variants[0])
	}
	fmt.Fprintln(w)
	for _, m := range milestones {
		fmt.Fprintf(w, "%-46s", m.name)
		var medians []time.Duration
		for _, v := range variants {
			var ds []time.Duration
			for _, b := range results[v] {
				ds = append(ds, m.of(b))
			}
			med := median(ds)
			medians = append(medians, med)
			fmt.Fprintf(w, " %12s", roundDuration(med))
		}
		if both && medians[0] > 0 {
			fmt.Fprintf(w, " %16.2f", medians[1].Seconds()/medians[0].Seconds())
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nper run, in the order they ran:")
	for _, m := range milestones {
		fmt.Fprintf(w, "  %s:", m.name)
		for i, v := range variants {
			if i > 0 {
				fmt.Fprint(w, ";")
			}
			fmt.Fprintf(w, " %s", v)
			for _, b := range results[v] {
				fmt.Fprintf(w, " %s", roundDuration(m.of(b)))
			}
		}
		fmt.Fprintln(w)
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printReports writes the milestones, every phase with its share of the first boot's time, and
// kiln-agent's footprints.
func printReports(w io.Writer, v variant, reports []namedReport) {
	fmt.Fprintf(w, "%-16s %14s %14s %16s\n", "node", "→ API ready", "→ Node Ready", "first boot total")
	for _, r := range reports {
		api := "-"
		if r.apiserverReady > 0 {
			api = roundDuration(r.apiserverReady)
		}
		fmt.Fprintf(w, "%-16s %14s %14s %16s\n", r.name, api, roundDuration(r.nodeReady), roundDuration(r.agentTotal))
	}
	for _, r := range reports {
		fmt.Fprintf(w, "\n%s (%s): where the first boot's %s go\n", r.name, v, roundDuration(r.agentTotal))
		for _, p := range r.phases {
			share := 100 * p.took.Seconds() / r.agentTotal.Seconds()
			fmt.Fprintf(w, "  %-28s %10s %5.1f%%\n", p.name, roundDuration(p.took), share)
		}
	}
	for _, r := range reports {
		if r.footprint != "" {
			fmt.Fprintf(w, "\n%s agent footprint: %s", r.name, r.footprint)
		}
	}
	fmt.Fprintln(w)
}

func roundDuration(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
