package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var kilnBin string

// TestMain builds the kiln binary once; the tests run it as an operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kiln-cli-test")
	if err != nil {
		panic(err)
	}
	kilnBin = filepath.Join(dir, "kiln")
	if out, err := exec.Command("go", "build", "-o", kilnBin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func kiln(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(kilnBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestClusterInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "prod")
	out, errOut, code := kiln(t, "cluster", "init", "--dir", dir, "--name", "prod", "--endpoint", "api.prod.example:6443")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`CA pin:\s+sha256:[0-9a-f]{64}`).MatchString(out) || !strings.Contains(out, "https://api.prod.example:6443") {
		t.Errorf("summary lacks the pin or endpoint:\n%s", out)
	}
	wantModes := map[string]os.FileMode{
		"pki/ca.crt": 0o644, "pki/ca.key": 0o600, "pki/front-proxy-ca.crt": 0o644, "pki/front-proxy-ca.key": 0o600,
		"pki/etcd/ca.crt": 0o644, "pki/etcd/ca.key": 0o600, "pki/sa.key": 0o600, "pki/sa.pub": 0o644,
		"admin.conf": 0o600, "super-admin.conf": 0o600, "tokens.yaml": 0o600, "cluster.yaml": 0o644,
	}
	for name, mode := range wantModes {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	// The token's secret is on screen only when asked for, never in the summary or cluster.yaml.
	list, _, code := kiln(t, "token", "list", "--dir", dir)
	tok := regexp.MustCompile(`[a-z0-9]{6}\.[a-z0-9]{16}`).FindString(list)
	if code != 0 || tok == "" {
		t.Fatalf("token list (exit %d):\n%s", code, list)
	}
	secret := strings.Split(tok, ".")[1]
	if strings.Contains(out, secret) {
		t.Error("cluster init printed the token secret")
	}
	if cfg, _ := os.ReadFile(filepath.Join(dir, "cluster.yaml")); bytes.Contains(cfg, []byte(secret)) {
		t.Error("cluster.yaml holds the token secret")
	}

	// A second token, offline.
	created, _, code := kiln(t, "token", "create", "--dir", dir, "--ttl", "2h", "--description", "rack 4")
	if code != 0 {
		t.Fatalf("token create exit %d", code)
	}
	list, _, _ = kiln(t, "token", "list", "--dir", dir)
	if !strings.Contains(list, strings.TrimSpace(created)) || !strings.Contains(list, "rack 4") {
		t.Errorf("new token not listed:\n%s", list)
	}

	// Never silently overwritten.
	before, _ := os.ReadFile(filepath.Join(dir, "pki/ca.crt"))
	_, errOut, code = kiln(t, "cluster", "init", "--dir", dir, "--endpoint", "api.prod.example")
	after, _ := os.ReadFile(filepath.Join(dir, "pki/ca.crt"))
	if code != 1 || !strings.Contains(errOut, "not empty") || !bytes.Equal(before, after) {
		t.Errorf("existing dir: exit %d, %s", code, errOut)
	}
}

func TestClusterInitErrors(t *testing.T) {
	tmp := t.TempDir()
	badConfig := filepath.Join(tmp, "kubeadm.yaml")
	os.WriteFile(badConfig, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ndns:\n  disabled: true\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no dir", []string{"cluster", "init", "--endpoint", "a:6443"}, 2, "--dir is required"},
		{"no endpoint", []string{"cluster", "init", "--dir", filepath.Join(tmp, "a")}, 1, "controlPlaneEndpoint"},
		{"bad endpoint", []string{"cluster", "init", "--dir", filepath.Join(tmp, "b"), "--endpoint", "a:0"}, 1, "controlPlaneEndpoint"},
		{"unsupported field", []string{"cluster", "init", "--dir", filepath.Join(tmp, "c"), "--endpoint", "a", "--config", badConfig}, 1, `field "dns" is not supported`},
		{"missing config", []string{"cluster", "init", "--dir", filepath.Join(tmp, "d"), "--endpoint", "a", "--config", filepath.Join(tmp, "nope.yaml")}, 1, "nope.yaml"},
		{"unknown flag", []string{"cluster", "init", "--bogus"}, 2, "unknown flag"},
		{"token both targets", []string{"token", "list", "--dir", tmp, "--kubeconfig", "x"}, 2, "exactly one"},
		{"token not a cluster dir", []string{"token", "list", "--dir", tmp}, 1, "not a kiln cluster directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := kiln(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.want)
			}
		})
	}
	// Nothing half-written by the failed runs.
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if e.Name() != "kubeadm.yaml" {
			t.Errorf("failed runs left %s behind", e.Name())
		}
	}
}

// kiln serve refuses to start without a config (usage, exit 2) or with a bad one (exit 1, the
// field named), and serves nothing in either case.
func TestServeStartupErrors(t *testing.T) {
	if _, errOut, code := kiln(t, "serve"); code != 2 || !strings.Contains(errOut, "--config") {
		t.Errorf("serve without --config: exit %d: %s", code, errOut)
	}
	f := filepath.Join(t.TempDir(), "serve.yaml")
	os.WriteFile(f, []byte("apiVersion: kiln.dev/v1alpha1\nkind: ServeConfig\nlisten: nowhere\n"), 0o644)
	if _, errOut, code := kiln(t, "serve", "--config", f); code != 1 || !strings.Contains(errOut, "listen") {
		t.Errorf("serve with a bad listen address: exit %d: %s", code, errOut)
	}
}
