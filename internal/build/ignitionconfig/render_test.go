package ignitionconfig

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ignition "github.com/coreos/ignition/v2/config/v3_6"

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// clusterSource returns what the cluster directory holds for a node path, nil when the file is
// made for the node (node.yaml, bootstrap-token).
func clusterSource(t *testing.T, d *clusterdir.Dir, path string) []byte {
	t.Helper()
	var src string
	switch {
	case path == nodeconfig.CACertPath:
		src = filepath.Join(d.PKIDir(), "ca.crt")
	case path == nodeconfig.ClusterConfigPath:
		src = filepath.Join(d.Path, clusterdir.ConfigFile)
	case path == nodeconfig.TokensPath:
		src = filepath.Join(d.Path, clusterdir.TokensFile)
	case strings.HasPrefix(path, layout.PKIDir+"/"):
		src = filepath.Join(d.PKIDir(), strings.TrimPrefix(path, layout.PKIDir+"/"))
	default:
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// apply writes a config's files under root as Ignition would on the node.
func apply(t *testing.T, root string, files []File) {
	t.Helper()
	for _, f := range files {
		if f.Contents == nil {
			t.Fatalf("%s: not a data URL", f.Path)
		}
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Contents, f.Mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
}

// privateKeys returns every private key of the cluster directory.
func privateKeys(t *testing.T, d *clusterdir.Dir) map[string][]byte {
	keys := map[string][]byte{}
	err := filepath.WalkDir(d.PKIDir(), func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".key") {
			keys[p], err = os.ReadFile(p)
		}
		return err
	})
	if err != nil || len(keys) != 4 {
		t.Fatalf("cluster keys: %d, %v", len(keys), err)
	}
	return keys
}

func TestRenderRoundTrip(t *testing.T) {
	d := newCluster(t)
	tokens, err := d.Tokens()
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens: %v %v", tokens, err)
	}
	caPin, _ := d.CAPin()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"worker", Options{Role: nodeconfig.RoleWorker, NodeName: "worker-1"}},
		{"worker with CA file", Options{Role: nodeconfig.RoleWorker, CACert: true}},
		{"control plane", Options{Role: nodeconfig.RoleControlPlane, NodeName: "cp-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Render(d, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			cfg, rpt, err := ignition.Parse(out)
			if err != nil || len(rpt.Entries) > 0 || cfg.Ignition.Version != "3.6.0" {
				t.Fatalf("Ignition's parser: version %q, %v\n%s", cfg.Ignition.Version, err, rpt)
			}
			t.Logf("%s: %d bytes (limit %d)", tc.name, len(out), UserDataLimit)
			files, err := DecodeFiles(out)
			if err != nil {
				t.Fatal(err)
			}
			// Exactly nodeconfig's files, with its modes and the cluster directory's bytes.
			var want []string
			for _, f := range nodeconfig.Files(tc.opts.Role) {
				if !f.Optional || tc.opts.CACert {
					want = append(want, f.Path)
				}
			}
			if len(files) != len(want) {
				t.Fatalf("%d files, want %v", len(files), want)
			}
			for i, f := range files {
				row := nodeconfig.Files(tc.opts.Role)[indexOf(nodeconfig.Files(tc.opts.Role), f.Path)]
				if f.Path != want[i] || f.Mode != row.Mode {
					t.Errorf("file %d: %s %#o, want %s %#o", i, f.Path, f.Mode, want[i], row.Mode)
				}
				if src := clusterSource(t, d, f.Path); src != nil && !bytes.Equal(src, f.Contents) {
					t.Errorf("%s differs from the cluster directory's", f.Path)
				}
			}
			// The node agent accepts what Ignition writes.
			root := t.TempDir()
			apply(t, root, files)
			nc, err := nodeconfig.Read(root)
			if err != nil {
				t.Fatalf("nodeconfig.Read: %v", err)
			}
			if nc.Role != tc.opts.Role || nc.NodeName != tc.opts.NodeName || nc.ClusterName != "prod" ||
				nc.ControlPlaneEndpoint != "api.prod.example:6443" || nc.CACertHashes[0] != caPin || nc.KubernetesVersion != "v1.36.3" {
				t.Errorf("node.yaml: %+v", nc)
			}
			if tc.opts.Role == nodeconfig.RoleWorker {
				tok, err := nodeconfig.ReadToken(root)
				if err != nil || tok.Value() != tokens[0].Value() {
					t.Errorf("bootstrap token %v (%v), want %s", tok, err, tokens[0].ID)
				}
				if found := keyFindings(t, d, out, files); len(found) > 0 {
					t.Errorf("worker config holds private keys:\n%s", strings.Join(found, "\n"))
				}
			}
			if tc.opts.Role == nodeconfig.RoleControlPlane {
				// The check above finds what it looks for.
				if found := keyFindings(t, d, out, files); len(found) < 4 {
					t.Errorf("key check finds only %v in a control-plane config", found)
				}
				if !bytes.Contains(out, []byte(`"compression":"gzip"`)) {
					t.Error("no file of the control-plane config is compressed")
				}
			}
		})
	}
}

func indexOf(files []nodeconfig.File, path string) int {
	for i, f := range files {
		if f.Path == path {
			return i
		}
	}
	return -1
}

// keyFindings lists the key material found in a config, raw and decoded.
func keyFindings(t *testing.T, d *clusterdir.Dir, raw []byte, files []File) []string {
	t.Helper()
	blobs := map[string][]byte{"raw config": raw}
	for _, f := range files {
		blobs[f.Path] = f.Contents
	}
	var found []string
	for where, b := range blobs {
		if bytes.Contains(b, []byte("PRIVATE KEY")) {
			found = append(found, where+": a PRIVATE KEY PEM block")
		}
		for path, key := range privateKeys(t, d) {
			body := pemBody(key)
			if bytes.Contains(b, key) || bytes.Contains(b, body[:64]) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(body[:48]))) {
				found = append(found, where+": bytes of "+path)
			}
		}
	}
	return found
}

// pemBody returns the base64 lines of a PEM block, joined.
func pemBody(pemData []byte) []byte {
	var body []byte
	for _, l := range bytes.Split(pemData, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("-----")) {
			body = append(body, l...)
		}
	}
	return body
}

func TestControlPlaneKeys(t *testing.T) {
	d := newCluster(t)
	out, err := Render(d, Options{Role: nodeconfig.RoleControlPlane})
	if err != nil {
		t.Fatal(err)
	}
	files, err := DecodeFiles(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]File{}
	for _, f := range files {
		got[f.Path] = f
	}
	for path, key := range privateKeys(t, d) {
		node := layout.PKIDir + "/" + strings.TrimPrefix(path, d.PKIDir()+"/")
		f, ok := got[node]
		if !ok || f.Mode != 0o600 || !bytes.Equal(f.Contents, key) {
			t.Errorf("%s: present %v, mode %#o, same bytes %v", node, ok, f.Mode, bytes.Equal(f.Contents, key))
		}
	}
	for _, p := range []string{nodeconfig.ClusterConfigPath, nodeconfig.TokensPath} {
		if got[p].Mode != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", p, got[p].Mode)
		}
	}
	for _, p := range []string{nodeconfig.CACertPKIPath, nodeconfig.ServiceAccountPubPKIPath, nodeconfig.NodeConfigPath} {
		if got[p].Mode != 0o644 {
			t.Errorf("%s: mode %#o, want 0644", p, got[p].Mode)
		}
	}
}

// TestBinaryContents covers a file that is not UTF-8, which Butane's inline contents cannot
// carry: it travels as a base64 data URL.
func TestBinaryContents(t *testing.T) {
	want := []byte{0xff, 0xfe, 0x00, 'k', 0x80}
	out, err := build([]content{{File: nodeconfig.File{Path: "/etc/kiln/blob", Mode: 0o600}, data: want}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := DecodeFiles(out)
	if err != nil || len(files) != 1 || !bytes.Equal(files[0].Contents, want) || files[0].Mode != 0o600 {
		t.Fatalf("decoded %+v, %v", files, err)
	}
}
