package harness

import (
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	kilnconsole "github.com/kilnproject/kiln/internal/contract/console"
)

// The console lines that separate the boot phases. kiln-init prints kilnconsole.Prefix before
// every line it writes and kilnconsole.InitSwitching right before switch_root (both from
// package contract/console, which kiln-init prints them from); the kernel and systemd lines
// are their own (the kernel's banner needs a console= without "quiet").
var (
	MarkerKernel    = regexp.MustCompile(`Linux version \d`)
	MarkerInit      = regexp.MustCompile(regexp.QuoteMeta(kilnconsole.Prefix))
	MarkerSystemd   = regexp.MustCompile(regexp.QuoteMeta(kilnconsole.InitSwitching))
	MarkerMultiUser = regexp.MustCompile(`Reached target .*(multi-user\.target|Multi-User System)`)
)

// Marker names a console line that starts a boot phase.
type Marker struct {
	Name string
	Re   *regexp.Regexp
}

// BootMarkers are the markers in boot order. The phase before each marker is named in
// PhaseNames: QEMU start → kernel is "firmware", kernel → kiln-init "kernel", kiln-init →
// systemd "init", systemd → multi-user (or Config.BootDone) "systemd".
var BootMarkers = []Marker{
	{"kernel", MarkerKernel},
	{"kiln-init", MarkerInit},
	{"systemd", MarkerSystemd},
	{"multi-user", MarkerMultiUser},
}

// PhaseNames name the phases that end at each of BootMarkers, then the whole boot.
var PhaseNames = []string{"firmware", "kernel", "init", "systemd", "total"}

// Phase is one boot phase of a VM, in host time since QEMU started.
type Phase struct {
	Name       string
	Start, End time.Duration
	// Complete is false when the console did not show the marker that ends the phase, or the
	// one that starts it.
	Complete bool
}

// Duration is End - Start of a complete phase, else 0.
func (p Phase) Duration() time.Duration {
	if !p.Complete {
		return 0
	}
	return p.End - p.Start
}

// phasesOf computes the boot phases from console lines: each marker's first matching line,
// searched from the line of the marker before it; done replaces the multi-user marker when
// not nil.
func phasesOf(lines []Line, done *regexp.Regexp) []Phase {
	markers := append([]Marker(nil), BootMarkers...)
	if done != nil {
		markers[len(markers)-1].Re = done
	}
	at := make([]time.Duration, len(markers))
	seen := make([]bool, len(markers))
	from := 0
	for i, m := range markers {
		for j := from; j < len(lines); j++ {
			if m.Re.MatchString(lines[j].Text) {
				at[i], seen[i], from = lines[j].Time, true, j
				break
			}
		}
	}
	phases := make([]Phase, 0, len(PhaseNames))
	prev, prevSeen := time.Duration(0), true
	for i := range markers {
		phases = append(phases, Phase{Name: PhaseNames[i], Start: prev, End: at[i], Complete: prevSeen && seen[i]})
		if seen[i] {
			prev, prevSeen = at[i], true
		} else {
			prevSeen = false
		}
	}
	last := len(markers) - 1
	return append(phases, Phase{Name: PhaseNames[last+1], End: at[last], Complete: seen[last]})
}

// FormatTimings renders phases as a table for a test log.
func FormatTimings(vmName, accel string, phases []Phase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "boot timings of %s (%s):\n", vmName, accel)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tfrom\tto\tduration\t")
	for _, p := range phases {
		if !p.Complete {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t\n", p.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.2fs\t%.2fs\t%.2fs\t\n", p.Name, p.Start.Seconds(), p.End.Seconds(), p.Duration().Seconds())
	}
	_ = tw.Flush()
	return b.String()
}
