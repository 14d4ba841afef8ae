package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxErrorLen is how much of a failed join's error the report shows.
const maxErrorLen = 200

// percentile returns the p-th percentile (0 < p ≤ 100) of ds by the nearest-rank method: the
// smallest value with at least p percent of the values at or below it. With fewer than 100
// values p99 is therefore the maximum. It returns 0 for no values.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(p * float64(len(sorted)) / 100)) // p·n first: exact for whole p
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// summary is one row of the report: a round's latencies over its successful joins.
type summary struct {
	n, ok               int
	p50, p99, max, wall time.Duration
	discP50, discP99    time.Duration  // token discovery
	csrP50, csrP99      time.Duration  // CSR created, approved, signed
	failures            map[string]int // shortened error → count
}

func summarize(r round) summary {
	s := summary{n: len(r.results), wall: r.wall, failures: map[string]int{}}
	var total, disc, csr []time.Duration
	for _, res := range r.results {
		if res.Err != "" {
			s.failures[shorten(res.Err, res.NodeName)]++
			continue
		}
		s.ok++
		total, disc, csr = append(total, res.Total), append(disc, res.Discovery), append(csr, res.CSR)
	}
	s.p50, s.p99, s.max = percentile(total, 50), percentile(total, 99), percentile(total, 100)
	s.discP50, s.discP99 = percentile(disc, 50), percentile(disc, 99)
	s.csrP50, s.csrP99 = percentile(csr, 50), percentile(csr, 99)
	return s
}

// csrName matches the names of node CSRs (node-csr-<digest>), which differ from node to node.
var csrName = regexp.MustCompile(`node-csr-[A-Za-z0-9_-]+`)

// shorten keeps the start of an error message, with the node's name and its CSR's name
// replaced, so that the same failure of many nodes counts as one line.
func shorten(msg, nodeName string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if nodeName != "" {
		msg = strings.ReplaceAll(msg, nodeName, "<node>")
	}
	msg = csrName.ReplaceAllString(msg, "node-csr-<digest>")
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen] + "…"
	}
	return msg
}

// printTable writes the rows, then each round's failures.
func printTable(w io.Writer, rows []summary) {
	const row = "%5s  %7s  %7s  %7s  %7s  %7s  %9s  %9s  %8s  %8s\n"
	fmt.Fprintln(w, "latencies in milliseconds; disc = token discovery, CSR = CSR created, approved, signed")
	fmt.Fprintf(w, row, "N", "ok/N", "p50", "p99", "max", "wall", "disc p50", "disc p99", "CSR p50", "CSR p99")
	for _, s := range rows {
		fmt.Fprintf(w, row, strconv.Itoa(s.n), fmt.Sprintf("%d/%d", s.ok, s.n),
			millis(s.p50), millis(s.p99), millis(s.max), millis(s.wall),
			millis(s.discP50), millis(s.discP99), millis(s.csrP50), millis(s.csrP99))
	}
	for _, s := range rows {
		if len(s.failures) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nfailures at N=%d (%d):\n", s.n, s.n-s.ok)
		msgs := make([]string, 0, len(s.failures))
		for m := range s.failures {
			msgs = append(msgs, m)
		}
		sort.Strings(msgs)
		for _, m := range msgs {
			fmt.Fprintf(w, "  %3d × %s\n", s.failures[m], m)
		}
	}
}

// millis formats d in whole milliseconds, or "-" when there is nothing to show.
func millis(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10)
}
