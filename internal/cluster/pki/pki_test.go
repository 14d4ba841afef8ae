package pki_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/testkit/golden"
	"github.com/kilnproject/kiln/internal/testkit/pkitest"
)

func TestMain(m *testing.M) {
	pkitest.Install()
	os.Exit(m.Run())
}

func testInputs(t testing.TB, mutate func(*config.ClusterConfiguration)) *pki.Inputs {
	t.Helper()
	c := config.Default().Cluster
	c.ControlPlaneEndpoint = "cp.example.test:6443"
	c.APIServer.CertSANs = []string{"10.20.30.40", "api.example.test"}
	if mutate != nil {
		mutate(&c)
	}
	return &pki.Inputs{Cluster: &c, NodeName: "cp-1", AdvertiseAddress: net.ParseIP("192.0.2.10")}
}

// TestTreeGolden covers the whole table: every certificate's subject, issuer, SANs, usages,
// lifetime and file modes.
func TestTreeGolden(t *testing.T) {
	dir := t.TempDir()
	results, err := pki.CreateTree(dir, testInputs(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range results {
		if r.Action != pki.Created {
			t.Errorf("%s: %s, want created", r.BaseName, r.Action)
		}
	}
	for _, c := range pki.Certs() {
		cert, _, err := pki.LoadCertAndKey(dir, c.BaseName)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:\n%s", c.BaseName, describe(cert))
		fmt.Fprintf(&b, "  files: crt %v, key %v\n", mode(t, pki.CertPath(dir, c.BaseName)), mode(t, pki.KeyPath(dir, c.BaseName)))
	}
	fmt.Fprintf(&b, "sa: key %v, pub %v\n", mode(t, filepath.Join(dir, "sa.key")), mode(t, filepath.Join(dir, "sa.pub")))
	golden.Assert(t, "tree", []byte(b.String()))
}

func describe(c *x509.Certificate) string {
	var eku []string
	for _, u := range c.ExtKeyUsage {
		eku = append(eku, map[x509.ExtKeyUsage]string{x509.ExtKeyUsageServerAuth: "ServerAuth", x509.ExtKeyUsageClientAuth: "ClientAuth"}[u])
	}
	var ku []string
	for bit, name := range map[x509.KeyUsage]string{x509.KeyUsageDigitalSignature: "DigitalSignature", x509.KeyUsageKeyEncipherment: "KeyEncipherment", x509.KeyUsageCertSign: "CertSign"} {
		if c.KeyUsage&bit != 0 {
			ku = append(ku, name)
		}
	}
	sort.Strings(ku)
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	return fmt.Sprintf("  subject: CN=%s O=%v\n  issuer: CN=%s\n  ca: %v\n  keyUsage: %v\n  extKeyUsage: %v\n  dns: %v\n  ips: %v\n  lifetime: %v\n",
		c.Subject.CommonName, c.Subject.Organization, c.Issuer.CommonName, c.IsCA, ku, eku, c.DNSNames, ips, c.NotAfter.Sub(c.NotBefore))
}

func mode(t testing.TB, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestChainsVerifyWithOpenSSL checks every leaf against its CA with a tool that is not Go.
func TestChainsVerifyWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	if _, err := pki.CreateTree(dir, testInputs(t, nil)); err != nil {
		t.Fatal(err)
	}
	for _, c := range pki.Certs() {
		ca := c.CA
		if c.IsCA() {
			ca = c.BaseName
		}
		out, err := exec.Command("openssl", "verify", "-CAfile", pki.CertPath(dir, ca), pki.CertPath(dir, c.BaseName)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("openssl verify %s: %v\n%s", c.BaseName, err, out)
		}
	}
	// The service-account pair: the public key file is the public half of the private key.
	pub, err := exec.Command("openssl", "pkey", "-in", filepath.Join(dir, "sa.key"), "-pubout").Output()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "sa.pub"))
	if string(pub) != string(want) {
		t.Errorf("sa.pub is not the public half of sa.key")
	}
}

func TestRerunReusesValidFiles(t *testing.T) {
	dir := t.TempDir()
	in := testInputs(t, nil)
	if _, err := pki.CreateTree(dir, in); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(pki.CertPath(dir, "apiserver"))
	results, err := pki.CreateTree(dir, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Action != pki.Reused {
			t.Errorf("%s: %s on rerun, want reused", r.BaseName, r.Action)
		}
	}
	after, _ := os.ReadFile(pki.CertPath(dir, "apiserver"))
	if string(before) != string(after) {
		t.Error("apiserver.crt changed on rerun")
	}
}

func TestCAsOnlyThenLeaves(t *testing.T) {
	dir := t.TempDir()
	in := testInputs(t, nil)
	results, err := pki.CreateCAs(dir, &pki.Inputs{Cluster: in.Cluster})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range results {
		names = append(names, r.BaseName)
	}
	if got := strings.Join(names, ","); got != "ca,front-proxy-ca,etcd/ca,sa" {
		t.Errorf("CreateCAs made %s", got)
	}
	if _, err := os.Stat(pki.CertPath(dir, "apiserver")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CreateCAs wrote a leaf certificate")
	}
	// A node later completes the tree from the CAs it received.
	results, err = pki.CreateTree(dir, in)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Action != pki.Reused || results[1].Action != pki.Created {
		t.Errorf("CreateTree after CreateCAs: %+v", results[:2])
	}
}

func TestInvalidExistingFilesAreNamed(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(dir string)
		mutate   func(*pki.Inputs)
		wantFile string
		wantText string
	}{
		{
			name:     "garbage certificate",
			damage:   func(dir string) { os.WriteFile(pki.CertPath(dir, "apiserver"), []byte("not a cert"), 0o644) },
			wantFile: "apiserver.crt",
		},
		{
			name:     "key missing",
			damage:   func(dir string) { os.Remove(pki.KeyPath(dir, "etcd/peer")) },
			wantFile: "etcd/peer.crt",
			wantText: "key",
		},
		{
			name: "certificate of another key",
			damage: func(dir string) {
				data, _ := os.ReadFile(pki.CertPath(dir, "front-proxy-client"))
				os.WriteFile(pki.CertPath(dir, "apiserver-kubelet-client"), data, 0o644)
			},
			wantFile: "apiserver-kubelet-client.crt",
		},
		{
			name:     "node address changed",
			mutate:   func(in *pki.Inputs) { in.AdvertiseAddress = net.ParseIP("192.0.2.99") },
			wantFile: "apiserver.crt",
			wantText: "192.0.2.99",
		},
		{
			name:     "sa.pub without its key",
			damage:   func(dir string) { os.Remove(filepath.Join(dir, "sa.key")) },
			wantFile: "sa.pub",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := testInputs(t, nil)
			if _, err := pki.CreateTree(dir, in); err != nil {
				t.Fatal(err)
			}
			if tc.damage != nil {
				tc.damage(dir)
			}
			if tc.mutate != nil {
				tc.mutate(in)
			}
			_, err := pki.CreateTree(dir, in)
			if err == nil {
				t.Fatal("CreateTree accepted an invalid file")
			}
			if !strings.Contains(err.Error(), tc.wantFile) || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not name %s (%q)", err, tc.wantFile, tc.wantText)
			}
		})
	}
}

func TestECDSA(t *testing.T) {
	dir := t.TempDir()
	in := testInputs(t, func(c *config.ClusterConfiguration) { c.EncryptionAlgorithm = config.EncryptionECDSAP256 })
	if _, err := pki.CreateTree(dir, in); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"ca", "apiserver", "etcd/server", "sa"} {
		key, err := pki.LoadKey(pki.KeyPath(dir, base))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := key.(*ecdsa.PrivateKey); !ok {
			t.Errorf("%s.key is %T, want ECDSA", base, key)
		}
	}
}
