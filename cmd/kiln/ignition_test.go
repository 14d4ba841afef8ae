package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ignition "github.com/coreos/ignition/v2/config/v3_6"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

func initCluster(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "prod")
	if _, errOut, code := kiln(t, "cluster", "init", "--dir", dir, "--name", "prod", "--endpoint", "api.prod.example:6443"); code != 0 {
		t.Fatalf("cluster init: exit %d: %s", code, errOut)
	}
	return dir
}

// decodeFiles returns a config's files by path, checked by Ignition's parser.
func decodeFiles(t *testing.T, ign []byte) map[string]ignitionconfig.File {
	t.Helper()
	files, err := ignitionconfig.DecodeFiles(ign)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ignitionconfig.File{}
	for _, f := range files {
		out[f.Path] = f
	}
	return out
}

func TestIgnition(t *testing.T) {
	dir := initCluster(t)
	tmp := t.TempDir()

	// A worker to standard output, with the operator's snippet.
	snippet := filepath.Join(tmp, "extra.bu")
	os.WriteFile(snippet, []byte("variant: fcos\nversion: 1.7.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hello\n"), 0o644)
	out, errOut, code := kiln(t, "ignition", "--cluster", dir, "--role", "worker", "--node", "worker-1", "--butane", snippet)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	files := decodeFiles(t, []byte(out))
	if !strings.Contains(string(files[nodeconfig.NodeConfigPath].Contents), "nodeName: worker-1") ||
		string(files["/etc/motd"].Contents) != "hello" || files[nodeconfig.BootstrapTokenPath].Mode != 0o600 {
		t.Errorf("worker files: %v", files)
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("worker config holds a private key")
	}

	// A control plane to a file: 0600, as it holds the CA keys.
	cp := filepath.Join(tmp, "cp-1.ign")
	_, errOut, code = kiln(t, "ignition", "--cluster", dir, "--role", "control-plane", "--node", "cp-1", "--out", cp)
	if code != 0 || !strings.Contains(errOut, "keep it private") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fi, err := os.Stat(cp)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v", cp, fi, err)
	}
	data, _ := os.ReadFile(cp)
	key, _ := os.ReadFile(filepath.Join(dir, "pki", "ca.key"))
	if f := decodeFiles(t, data)[nodeconfig.CAKeyPKIPath]; f.Mode != 0o600 || !bytes.Equal(f.Contents, key) {
		t.Errorf("ca.key in the control-plane config: mode %#o, same bytes %v", f.Mode, bytes.Equal(f.Contents, key))
	}

	// A pointer: the small config names the full one's URL and hash.
	ptrPath := filepath.Join(tmp, "cp-2.ign")
	const url = "https://boot.example/cp-2.ign"
	_, errOut, code = kiln(t, "ignition", "--cluster", dir, "--role", "control-plane", "--out", ptrPath, "--pointer-url", url)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	full, err := os.ReadFile(filepath.Join(tmp, "cp-2.full.ign"))
	if err != nil {
		t.Fatal(err)
	}
	ptr, _ := os.ReadFile(ptrPath)
	cfg, _, err := ignition.Parse(ptr)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(full)
	merge := cfg.Ignition.Config.Merge
	if len(merge) != 1 || *merge[0].Source != url || *merge[0].Verification.Hash != "sha512-"+hex.EncodeToString(sum[:]) {
		t.Errorf("pointer: %s", ptr)
	}
	if len(decodeFiles(t, full)) != len(nodeconfig.Files(nodeconfig.RoleControlPlane)) {
		t.Error("the full config lacks files")
	}
}

func TestIgnitionErrors(t *testing.T) {
	dir := initCluster(t)
	tmp := t.TempDir()
	badSnippet := filepath.Join(tmp, "bad.bu")
	os.WriteFile(badSnippet, []byte("variant: fcos\nversion: 1.7.0\nstorage:\n  files:\n    - path: etc/motd\n"), 0o644)
	conflict := filepath.Join(tmp, "conflict.bu")
	os.WriteFile(conflict, []byte("variant: fcos\nversion: 1.7.0\nstorage:\n  files:\n    - path: /etc/kiln/bootstrap-token\n"), 0o644)
	expired := initCluster(t)
	os.WriteFile(filepath.Join(expired, "tokens.yaml"), []byte(`bootstrapTokens:
- token: abcdef.0123456789abcdef
  expires: "2020-01-01T00:00:00Z"
  usages: [signing, authentication]
  groups: [system:bootstrappers:kubeadm:default-node-token]
`), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no cluster", []string{"--role", "worker"}, 2, "--cluster is required"},
		{"no role", []string{"--cluster", dir}, 2, `--role "": want control-plane or worker`},
		{"unknown role", []string{"--cluster", dir, "--role", "master"}, 2, `--role "master"`},
		{"pointer without out", []string{"--cluster", dir, "--role", "worker", "--pointer-url", "https://x/y"}, 2, "give --out"},
		{"missing dir", []string{"--cluster", filepath.Join(tmp, "nope"), "--role", "worker"}, 1, "not a kiln cluster directory"},
		{"missing snippet", []string{"--cluster", dir, "--role", "worker", "--butane", filepath.Join(tmp, "nope.bu")}, 1, "read Butane snippet"},
		{"bad snippet", []string{"--cluster", dir, "--role", "worker", "--butane", badSnippet}, 1, "bad.bu: invalid Butane snippet: config generated was invalid:\n  error at $.storage.files.0.path, line 5 col 13: path not absolute"},
		{"conflicting snippet", []string{"--cluster", dir, "--role", "worker", "--butane", conflict}, 1, "/etc/kiln/bootstrap-token is written by kiln"},
		{"no valid token", []string{"--cluster", expired, "--role", "worker"}, 1, "no valid bootstrap token"},
		{"unknown token", []string{"--cluster", dir, "--role", "worker", "--token", "zzzzzz"}, 1, `no token with ID "zzzzzz"`},
		{"bad pointer URL", []string{"--cluster", dir, "--role", "worker", "--out", filepath.Join(tmp, "w.ign"), "--pointer-url", "ftp://x/y"}, 1, "pointer URL"},
		{"CA file for a control plane", []string{"--cluster", dir, "--role", "control-plane", "--ca-cert"}, 1, "for workers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := kiln(t, append([]string{"ignition"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.want)
			}
			if out != "" {
				t.Errorf("failed run printed a config: %.80s", out)
			}
		})
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 2 { // the two snippets
		t.Errorf("failed runs left files behind: %v", entries)
	}
}
