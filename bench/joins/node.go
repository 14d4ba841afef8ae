package main

import (
	"bufio"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kilnproject/kiln/internal/agent/discovery"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/testkit/tlsbootstrap"
)

// A simulated node is this program run again as a process of its own: the parent starts it
// with nodeEnv=1 and speaks a line protocol over its stdin and stdout:
//
//	parent → node   one JSON job (endpoint, token, CA pin, node name); the token stays off
//	                the command line, which every user can read, and out of the environment
//	node → parent   "ready", once its key is made
//	parent → node   "go", to every node at once
//	node → parent   one JSON result
//
// Processes rather than goroutines, because in one process client-go shares one cached
// transport (one TLS connection pool) between clients with the same kubeconfig, and every
// simulated node has the same bootstrap kubeconfig: goroutines would send the TLS bootstrap
// requests of 100 nodes over one connection, which 100 machines never do. A process costs its own Go
// runtime and start-up, spent before the clock starts. The switch is an environment variable
// rather than a hidden flag so that the test binary runs nodes the same way (see TestMain).
const nodeEnv = "KILN_BENCH_JOINS_NODE"

// Protocol lines.
const (
	readyLine = "ready"
	goLine    = "go"
)

// job is what one simulated node is asked to do.
type job struct {
	Endpoint    string        `json:"endpoint"` // the API server's host:port
	Token       string        `json:"token"`    // id.secret: a credential, never printed
	CAPin       string        `json:"caPin"`
	ClusterName string        `json:"clusterName"`
	NodeName    string        `json:"nodeName"`
	Timeout     time.Duration `json:"timeout"` // bounds the whole join
}

// result is what one join took, measured in the node from "go" on; Err is empty on success.
type result struct {
	NodeName  string        `json:"nodeName"`
	Discovery time.Duration `json:"discovery"` // token discovery: cluster-info signed, pinned, re-read
	CSR       time.Duration `json:"csr"`       // CSR created, approved and signed, certificate in hand
	Total     time.Duration `json:"total"`
	Err       string        `json:"error,omitempty"`
}

// runNode is a simulated node's whole life: read the job, make a fresh key, say ready, wait
// for go, join, report. It returns an error only when the protocol breaks; a failed join is
// a result.
func runNode(stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReader(stdin)
	var j job
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	if err := json.Unmarshal(line, &j); err != nil {
		return fmt.Errorf("parse job: %w", err)
	}
	// ECDSA P-256, as the kubelet makes its client key; made before the clock starts, as on a
	// real machine it costs that machine's CPU, not the control plane's.
	key, err := pki.GenerateKey(config.EncryptionECDSAP256)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, readyLine); err != nil {
		return err
	}
	if line, err := in.ReadString('\n'); err != nil || line != goLine+"\n" {
		return fmt.Errorf("wait for %q: got %q, %v", goLine, line, err)
	}
	r := join(context.Background(), j, key)
	return json.NewEncoder(stdout).Encode(r)
}

// join does what a joining node does up to its client certificate, through the code the agent
// and the kubelet run: token discovery with the CA pin, then TLS bootstrap.
func join(ctx context.Context, j job, key crypto.Signer) result {
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	r := result{NodeName: j.NodeName}
	start := time.Now()
	bootstrap, err := discovery.ByToken(ctx, discovery.TokenOptions{
		Endpoint:    j.Endpoint,
		Token:       j.Token,
		CAPins:      []string{j.CAPin},
		Timeout:     j.Timeout,
		ClusterName: j.ClusterName,
		Logger:      slog.New(slog.DiscardHandler),
	})
	r.Discovery = time.Since(start)
	if err != nil {
		r.Total, r.Err = r.Discovery, "discovery: "+err.Error()
		return r
	}
	csrStart := time.Now()
	_, err = tlsbootstrap.RequestNodeClientCert(ctx, bootstrap, j.NodeName, key)
	r.CSR = time.Since(csrStart)
	r.Total = time.Since(start)
	if err != nil {
		r.Err = "TLS bootstrap: " + err.Error()
	}
	return r
}
