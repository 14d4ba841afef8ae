package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/qemu-tests/harness"
)

func TestParseReport(t *testing.T) {
	text := []string{
		"[  46.392s] [   39.490150] kiln-agent[330]: [preflight] done in 4.6s",
		"[ 180.000s] [  170.000000] kiln-agent[330]: [images] done in 2m12s",
		"[ 287.793s] [  280.888313] kiln-agent[330]: [wait] kube-apiserver healthy after 1m20s",
		"[ 290.000s] [  281.000000] kiln-agent[330]: [init/wait-control-plane] done in 1m25.5s",
		"[ 300.000s] [  290.000000] kiln-agent[330]: [kiln] agent footprint: 1.9 s CPU, peak RSS 41.2 MiB; programs it ran 52.0 s CPU",
		"[ 300.100s] [  290.100000] kiln-agent[330]: [kiln] first boot complete in 4m14s: kubelet keeps the node",
	}
	var lines []harness.Line
	for i, s := range text {
		lines = append(lines, harness.Line{N: i, Time: time.Duration(i+1) * time.Minute, Text: s})
	}
	r, err := parseReport(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.phases) != 3 || r.phases[1].name != "images" || r.phases[1].took != 132*time.Second {
		t.Errorf("phases %+v", r.phases)
	}
	if r.apiserverReady != 3*time.Minute || r.agentTotal != 254*time.Second || !strings.HasPrefix(r.footprint, "1.9 s CPU") {
		t.Errorf("report %+v", r)
	}
	var out bytes.Buffer
	printReports(&out, []namedReport{{"control plane", r}})
	if !strings.Contains(out.String(), "images") || !strings.Contains(out.String(), "52.0%") {
		t.Errorf("printed:\n%s", out.String())
	}
	if _, err := parseReport(lines[:2]); err == nil {
		t.Error("a console without a complete first boot parsed")
	}
}
