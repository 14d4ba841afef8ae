package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplanetest"
)

// TestMain lets the test binary be a simulated node, as the benchmark runs itself.
func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		if err := runNode(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "joins node:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		ds := make([]time.Duration, len(vs))
		for i, v := range vs {
			ds[i] = time.Duration(v) * time.Millisecond
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    float64
		want int
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 99, 7},
		{"p50 of an odd count is the median", ms(3, 1, 2), 50, 2},
		{"p50 of an even count is the lower middle", ms(4, 1, 3, 2), 50, 2},
		{"p99 of ten is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10},
		{"p90 of ten", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 90, 9},
		{"p99 of a hundred", ms(hundred...), 99, 99},
		{"p50 of a hundred", ms(hundred...), 50, 50},
		{"p100 is the max", ms(hundred...), 100, 100},
	} {
		if got := percentile(tc.ds, tc.p); got != time.Duration(tc.want)*time.Millisecond {
			t.Errorf("%s: percentile(p%v) = %s, want %dms", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestSummarizeGroupsTheSameFailureOfManyNodes(t *testing.T) {
	r := round{wall: time.Second, results: []result{
		{NodeName: "n1", Total: 300 * time.Millisecond, Discovery: 100 * time.Millisecond, CSR: 200 * time.Millisecond},
		{NodeName: "n2", Err: "TLS bootstrap: CertificateSigningRequest node-csr-abc_D-1 for node n2 was not approved"},
		{NodeName: "n3", Err: "TLS bootstrap: CertificateSigningRequest node-csr-XYZ-9 for node n3 was not approved"},
	}}
	s := summarize(r)
	if s.n != 3 || s.ok != 1 || s.p50 != 300*time.Millisecond || s.csrP99 != 200*time.Millisecond {
		t.Errorf("summary %+v", s)
	}
	want := "TLS bootstrap: CertificateSigningRequest node-csr-<digest> for node <node> was not approved"
	if len(s.failures) != 1 || s.failures[want] != 2 {
		t.Errorf("failures %v, want 2 × %q", s.failures, want)
	}
}

// TestOneJoin runs a round of one simulated node against a real control plane: the node
// process discovers the cluster and gets a client certificate signed by the real
// kube-controller-manager.
func TestOneJoin(t *testing.T) {
	cp := hostcontrolplanetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := initCluster(ctx, cp, t.Logf); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	r := runRound(ctx, self, jobs(cp, 1, 1, time.Minute), t.Logf)
	if len(r.results) != 1 || r.results[0].Err != "" {
		t.Fatalf("join failed: %+v", r.results)
	}
	res := r.results[0]
	if res.Discovery <= 0 || res.CSR <= 0 || res.Total < res.Discovery+res.CSR || r.wall < res.Total {
		t.Errorf("implausible timings: %+v, wall %s", res, r.wall)
	}

	// The certificate came from a real CSR, made with the bootstrap token and issued.
	admin, err := cp.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	csrs, err := admin.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issued := 0
	for _, c := range csrs.Items {
		if strings.HasPrefix(c.Name, "node-csr-") && c.Spec.Username == "system:bootstrap:"+cp.Tokens[0].ID && len(c.Status.Certificate) > 0 {
			issued++
		}
	}
	if issued != 1 {
		t.Errorf("%d issued node CSRs by the bootstrap token, want 1", issued)
	}
}
