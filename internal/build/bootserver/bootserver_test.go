package bootserver

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

const bootScript = `#!ipxe
isset ${base-url} || set base-url http://SERVER/worker-pxe
kernel ${base-url}/vmlinuz initrd=initrd.img console=ttyS0 kiln.root.url=${base-url}/root.squashfs ignition.config.url=${base-url}/ignition?mac=${mac:hexhyp}
initrd ${base-url}/initrd.img
boot
`

// testServer writes a cluster directory, a bundle and a config file, and serves them.
func testServer(t *testing.T, groups string) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	s, log, err := newTestServer(t, t.TempDir(), groups)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, log
}

// newTestServer writes a cluster directory, a bundle and a config file into dir (which may
// hold more files the groups name) and makes a server of them.
func newTestServer(t *testing.T, dir, groups string) (*Server, *bytes.Buffer, error) {
	t.Helper()
	cfg := config.Default()
	cfg.Cluster.ControlPlaneEndpoint = "192.168.100.10:6443"
	if _, err := clusterdir.Create(filepath.Join(dir, "cluster"), cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "worker-pxe")
	os.MkdirAll(bundle, 0o755)
	for name, data := range map[string]string{"boot.ipxe": bootScript, "vmlinuz": "kernel", "initrd.img": "initrd", "root.squashfs": strings.Repeat("squashfs", 1000)} {
		if err := os.WriteFile(filepath.Join(bundle, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgFile := filepath.Join(dir, "serve.yaml")
	doc := "apiVersion: kiln.dev/v1alpha1\nkind: ServeConfig\nlisten: 127.0.0.1:0\ncluster: cluster\nbundles: {worker: worker-pxe}\n" + groups
	if err := os.WriteFile(cfgFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(cfgFile)
	if err != nil {
		return nil, nil, err
	}
	var log bytes.Buffer
	s, err := New(c, slog.New(slog.NewTextHandler(&log, nil)))
	return s, &log, err
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

const twoGroups = `groups:
- {name: rack1, selector: {labels: {rack: "1"}}, bundle: worker, role: worker}
- {name: special, selector: {mac: "52:54:00:AA:BB:CC", labels: {rack: "1"}}, bundle: worker, role: worker, nodeName: "edge-{mac}"}
`

// A machine gets its group's script with base-url set to this server, and the most specific
// group wins.
func TestBootScriptAndMatching(t *testing.T) {
	srv, log := testServer(t, twoGroups)
	resp, body := get(t, srv.URL+"/boot.ipxe?mac=52-54-00-11-22-33&rack=1")
	if resp.StatusCode != 200 || resp.Header.Get("X-Kiln-Group") != "rack1" {
		t.Fatalf("rack machine: %s, group %q", resp.Status, resp.Header.Get("X-Kiln-Group"))
	}
	if !strings.Contains(body, "set base-url "+srv.URL+"/bundle/worker\n") || strings.Contains(body, "isset") {
		t.Errorf("script does not set base-url:\n%s", body)
	}
	resp, _ = get(t, srv.URL+"/boot.ipxe?mac=52:54:00:aa:bb:cc&rack=1")
	if g := resp.Header.Get("X-Kiln-Group"); g != "special" {
		t.Errorf("the MAC-and-label machine matched %q, want special", g)
	}
	if !strings.Contains(log.String(), "group=special") {
		t.Errorf("the request log lacks the matched group:\n%s", log)
	}
}

// An unmatched machine gets 404 and no config; a matched one gets its own.
func TestIgnitionPerMachine(t *testing.T) {
	srv, _ := testServer(t, twoGroups)
	resp, body := get(t, srv.URL+"/bundle/worker/ignition?mac=52-54-00-11-22-33&rack=2")
	if resp.StatusCode != 404 || strings.Contains(body, "ignition") {
		t.Fatalf("unmatched machine: %s %q", resp.Status, body)
	}
	resp, body = get(t, srv.URL+"/bundle/worker/ignition?mac=52-54-00-aa-bb-cc&rack=1")
	if resp.StatusCode != 200 {
		t.Fatalf("matched machine: %s %s", resp.Status, body)
	}
	files, err := ignitionconfig.DecodeFiles([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var nodeYAML string
	for _, f := range files {
		if f.Path == nodeconfig.NodeConfigPath {
			nodeYAML = string(f.Contents)
		}
		if strings.HasSuffix(f.Path, ".key") {
			t.Errorf("a worker's config holds a private key: %s", f.Path)
		}
	}
	if !strings.Contains(nodeYAML, "nodeName: edge-525400aabbcc") || !strings.Contains(nodeYAML, "role: worker") {
		t.Errorf("node.yaml:\n%s", nodeYAML)
	}
}

// Bundle files support Range and conditional requests by ETag.
func TestBundleFileRangeAndETag(t *testing.T) {
	srv, _ := testServer(t, twoGroups)
	resp, body := get(t, srv.URL+"/bundle/worker/root.squashfs", "Range", "bytes=8-15")
	if resp.StatusCode != http.StatusPartialContent || body != "squashfs" {
		t.Fatalf("range: %s %q", resp.Status, body)
	}
	etag := resp.Header.Get("ETag")
	if len(etag) != 66 {
		t.Fatalf("ETag %q, want the quoted sha256", etag)
	}
	if resp, _ := get(t, srv.URL+"/bundle/worker/root.squashfs", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s, want 304", resp.Status)
	}
	for _, p := range []string{"/bundle/worker/../cluster/tokens.yaml", "/bundle/worker/serve.yaml", "/bundle/nope/vmlinuz"} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
}

// A bad config names the field.
func TestConfigErrors(t *testing.T) {
	for groups, want := range map[string]string{
		"groups: []\n": "groups: required",
		"groups:\n- {name: a, bundle: nope, role: worker}\n":                        "groups[0].bundle",
		"groups:\n- {name: a, bundle: worker, role: boss}\n":                        "groups[0].role",
		"groups:\n- {name: a, bundle: worker, role: worker, selector: {mac: zz}}\n": "groups[0].selector.mac",
		"groups:\n- {name: a, bundle: worker, role: worker, colour: red}\n":         "colour",
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "b"), 0o755)
		os.WriteFile(filepath.Join(dir, "b", "boot.ipxe"), []byte(bootScript), 0o644)
		f := filepath.Join(dir, "serve.yaml")
		os.WriteFile(f, []byte("apiVersion: kiln.dev/v1alpha1\nkind: ServeConfig\nlisten: :8080\ncluster: c\nbundles: {worker: b}\n"+groups), 0o644)
		_, err := LoadConfig(f)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %q", groups, err, want)
		}
	}
}

// A group's Butane file goes into its machines' configs; one that does not translate stops the
// server at start, naming the group.
func TestGroupButane(t *testing.T) {
	dir := t.TempDir()
	snippet := "variant: fcos\nversion: 1.7.0\nstorage:\n  files:\n  - path: /etc/kiln-test-group\n    contents: {inline: rack-1}\n"
	if err := os.WriteFile(filepath.Join(dir, "rack1.bu"), []byte(snippet), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, err := newTestServer(t, dir, "groups:\n- {name: rack1, bundle: worker, role: worker, butane: rack1.bu}\n")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, body := get(t, srv.URL+"/bundle/worker/ignition?mac=52-54-00-11-22-33")
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	files, err := ignitionconfig.DecodeFiles([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range files {
		found = found || (f.Path == "/etc/kiln-test-group" && string(f.Contents) == "rack-1")
	}
	if !found {
		t.Errorf("the group's Butane file is not in the config")
	}

	for name, content := range map[string]string{"missing.bu": "", "bad.bu": "variant: fcos\nversion: 1.7.0\nstorage: {files: [{path: relative}]}\n"} {
		dir := t.TempDir()
		if content != "" {
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
		_, _, err := newTestServer(t, dir, "groups:\n- {name: rack1, bundle: worker, role: worker, butane: "+name+"}\n")
		if err == nil || !strings.Contains(err.Error(), "groups[0]") {
			t.Errorf("%s: error %v, want one naming groups[0]", name, err)
		}
	}
}
