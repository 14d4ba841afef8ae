package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/qemu-tests/harness"
)

// consoleLines makes console lines of text, the first a minute after power-on, the next a
// minute later, and so on.
func consoleLines(text []string) []harness.Line {
	var lines []harness.Line
	for i, s := range text {
		lines = append(lines, harness.Line{N: i, Time: time.Duration(i+1) * time.Minute, Text: s})
	}
	return lines
}

func TestParseReport(t *testing.T) {
	text := []string{
		"[  46.392s] [   39.490150] kiln-agent[330]: [preflight] done in 4.6s",
		"[ 180.000s] [  170.000000] kiln-agent[330]: [images] done in 2m12s",
		"[ 287.793s] [  280.888313] kiln-agent[330]: [wait] kube-apiserver healthy after 1m20s",
		"[ 290.000s] [  281.000000] kiln-agent[330]: [init/wait-control-plane] done in 1m25.5s",
		"[ 300.000s] [  290.000000] kiln-agent[330]: [kiln] agent footprint: 1.9 s CPU, peak RSS 41.2 MiB; programs it ran 52.0 s CPU",
		"[ 300.100s] [  290.100000] kiln-agent[330]: [kiln] first boot complete in 4m14s: kubelet keeps the node",
	}
	lines := consoleLines(text)
	r, err := parseReport(consoleOf(variantKiln), lines)
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
	printReports(&out, variantKiln, []namedReport{{"control plane", r}})
	if !strings.Contains(out.String(), "images") || !strings.Contains(out.String(), "52.0%") {
		t.Errorf("printed:\n%s", out.String())
	}
	if _, err := parseReport(consoleOf(variantKiln), lines[:2]); err == nil {
		t.Error("a console without a complete first boot parsed")
	}
}

func TestParseKubeadmReport(t *testing.T) {
	text := []string{
		"[  40.000s] [   33.000000] kubeadm-firstboot[301]: [kubeadm-firstboot] first boot: images, kubeadm init, pod-network",
		"[ 100.000s] [   93.000000] kubeadm-firstboot[301]: [images] done in 60.2s",
		"[ 200.000s] [  193.000000] kubeadm-firstboot[301]: [control-plane-check] kube-apiserver is healthy after 1m2.5s",
		"[ 230.000s] [  223.000000] kubeadm-firstboot[301]: [kubeadm/init] done in 130.0s",
		"[ 260.000s] [  253.000000] kubeadm-firstboot[301]: [pod-network] done in 30.1s",
		"[ 260.100s] [  253.100000] kubeadm-firstboot[301]: [kubeadm-firstboot] first boot complete in 220.3s: kubelet keeps the node",
	}
	lines := consoleLines(text)
	r, err := parseReport(consoleOf(variantKubeadm), lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.phases) != 3 || r.phases[1].name != "kubeadm/init" || r.phase("images") != 60200*time.Millisecond {
		t.Errorf("phases %+v", r.phases)
	}
	if r.apiserverReady != 3*time.Minute || r.agentTotal != 220300*time.Millisecond || r.footprint != "" {
		t.Errorf("report %+v", r)
	}
	if !consoleOf(variantKubeadm).failed.MatchString("[ 90.000s] [ 83.0] systemd[1]: kubeadm-firstboot.service: Main process exited, code=exited, status=1/FAILURE") {
		t.Error("a failed kubeadm first boot is not recognised")
	}
}

func TestPrintComparison(t *testing.T) {
	boot := func(api, cpReady, workerReady time.Duration) clusterBoot {
		return clusterBoot{controlPlane: report{apiserverReady: api, nodeReady: cpReady}, worker: report{nodeReady: workerReady}}
	}
	results := map[variant][]clusterBoot{
		variantKiln:    {boot(3*time.Minute, 4*time.Minute, 5*time.Minute), boot(100*time.Second, 200*time.Second, 300*time.Second), boot(4*time.Minute, 5*time.Minute, 6*time.Minute)},
		variantKubeadm: {boot(6*time.Minute, 8*time.Minute, 10*time.Minute)},
	}
	var out bytes.Buffer
	printComparison(&out, []variant{variantKiln, variantKubeadm}, results)
	lines := strings.Split(out.String(), "\n")
	// kiln's medians are 3m, 4m and 5m; kubeadm's single run is twice each.
	for i, want := range []string{"3m0s", "4m0s", "5m0s"} {
		if f := strings.Fields(lines[i+1]); !slices.Contains(f, want) || f[len(f)-1] != "2.00" {
			t.Errorf("line %q: want kiln's median %s and the ratio 2.00", lines[i+1], want)
		}
	}
}

func TestParseVariants(t *testing.T) {
	if vs, err := parseVariants("kubeadm, kiln,kiln"); err != nil || len(vs) != 2 || vs[0] != variantKubeadm {
		t.Errorf("parseVariants = %v, %v", vs, err)
	}
	if _, err := parseVariants("kiln,kops"); err == nil || !strings.Contains(err.Error(), "kops") {
		t.Errorf("an unknown variant: %v", err)
	}
}
