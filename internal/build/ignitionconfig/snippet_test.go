package ignitionconfig

import (
	"errors"
	"strings"
	"testing"

	ignition "github.com/coreos/ignition/v2/config/v3_6"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

const operatorSnippet = `variant: fcos
version: 1.7.0
passwd:
  users:
    - name: ops
      ssh_authorized_keys:
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps ops@example
storage:
  directories:
    - path: /etc/kiln
      mode: 0755
  files:
    - path: /etc/motd
      mode: 0644
      contents:
        inline: |
          Managed by kiln.
systemd:
  units:
    - name: node-exporter.service
      enabled: true
      contents: |
        [Unit]
        Description=Node exporter
        [Service]
        ExecStart=/usr/local/bin/node_exporter
        [Install]
        WantedBy=multi-user.target
`

func TestSnippetMerged(t *testing.T) {
	d := newCluster(t)
	for _, role := range nodeconfig.Roles {
		t.Run(string(role), func(t *testing.T) {
			out, err := Render(d, Options{Role: role, NodeName: "n1", Butane: []byte(operatorSnippet)})
			if err != nil {
				t.Fatal(err)
			}
			cfg, rpt, err := ignition.Parse(out)
			if err != nil || len(rpt.Entries) > 0 {
				t.Fatalf("Ignition's parser: %v\n%s", err, rpt)
			}
			if len(cfg.Systemd.Units) != 1 || cfg.Systemd.Units[0].Name != "node-exporter.service" ||
				cfg.Systemd.Units[0].Enabled == nil || !*cfg.Systemd.Units[0].Enabled ||
				!strings.Contains(*cfg.Systemd.Units[0].Contents, "ExecStart=/usr/local/bin/node_exporter") {
				t.Errorf("units: %+v", cfg.Systemd.Units)
			}
			if len(cfg.Passwd.Users) != 1 || cfg.Passwd.Users[0].Name != "ops" || len(cfg.Passwd.Users[0].SSHAuthorizedKeys) != 1 {
				t.Errorf("users: %+v", cfg.Passwd.Users)
			}
			files, err := DecodeFiles(out)
			if err != nil {
				t.Fatal(err)
			}
			want := len(nodeconfig.Files(role))
			if role == nodeconfig.RoleWorker {
				want-- // no ca.crt
			}
			if len(files) != want+1 {
				t.Fatalf("%d files, want kiln's %d and the snippet's", len(files), want)
			}
			// kiln's files first, in order, then the operator's.
			if files[0].Path != nodeconfig.NodeConfigPath || files[want].Path != "/etc/motd" || string(files[want].Contents) != "Managed by kiln.\n" {
				t.Errorf("files: first %s, last %s %q", files[0].Path, files[want].Path, files[want].Contents)
			}
		})
	}
}

func TestSnippetErrors(t *testing.T) {
	d := newCluster(t)
	head := "variant: fcos\nversion: 1.7.0\n"
	for _, tc := range []struct {
		name    string
		role    nodeconfig.Role
		snippet string
		wantErr error
		msg     []string
	}{
		{name: "writes node.yaml", role: nodeconfig.RoleWorker,
			snippet: head + "storage:\n  files:\n    - path: /etc/kiln/node.yaml\n      contents:\n        inline: x\n",
			wantErr: ErrConflict, msg: []string{"/etc/kiln/node.yaml", "written by kiln"}},
		{name: "writes the CA key", role: nodeconfig.RoleControlPlane,
			snippet: head + "storage:\n  files:\n    - path: /etc/kubernetes/pki/ca.key\n",
			wantErr: ErrConflict, msg: []string{"/etc/kubernetes/pki/ca.key"}},
		{name: "links over the token", role: nodeconfig.RoleWorker,
			snippet: head + "storage:\n  links:\n    - path: /etc/kiln/bootstrap-token\n      target: /dev/null\n",
			wantErr: ErrConflict, msg: []string{"storage.links", "/etc/kiln/bootstrap-token"}},
		{name: "a file where kiln needs a directory", role: nodeconfig.RoleWorker,
			snippet: head + "storage:\n  files:\n    - path: /etc/kiln\n",
			wantErr: ErrConflict, msg: []string{"/etc/kiln is a directory kiln writes"}},
		{name: "replaces the config", role: nodeconfig.RoleWorker,
			snippet: head + "ignition:\n  config:\n    replace:\n      source: https://example.com/other.ign\n",
			wantErr: ErrConflict, msg: []string{"ignition.config.replace"}},
		{name: "not YAML", role: nodeconfig.RoleWorker,
			snippet: head + "storage:\n  files:\n  - path: [\n",
			wantErr: ErrSnippet, msg: []string{"line 5"}},
		{name: "unknown key", role: nodeconfig.RoleWorker,
			snippet: head + "storage:\n  files:\n    - path: /etc/motd\n      mod: 0644\n",
			wantErr: ErrSnippet, msg: []string{"line 6", "unused key mod"}},
		{name: "relative path", role: nodeconfig.RoleWorker,
			snippet: head + "storage:\n  files:\n    - path: etc/motd\n",
			wantErr: ErrSnippet, msg: []string{"line 5", "path not absolute"}},
		{name: "other variant", role: nodeconfig.RoleWorker,
			snippet: "variant: flatcar\nversion: 1.1.0\n",
			wantErr: ErrSnippet, msg: []string{`variant "flatcar"`, "fcos"}},
		{name: "no version", role: nodeconfig.RoleWorker,
			snippet: "variant: fcos\n",
			wantErr: ErrSnippet, msg: []string{"version"}},
		{name: "newer version", role: nodeconfig.RoleWorker,
			snippet: "variant: fcos\nversion: 1.8.0-experimental\n",
			wantErr: ErrSnippet, msg: []string{"version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(d, Options{Role: tc.role, Butane: []byte(tc.snippet)})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Render: %v, want %v", err, tc.wantErr)
			}
			t.Log(err)
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
		})
	}
}

func TestOlderSnippetVersion(t *testing.T) {
	d := newCluster(t)
	snippet := "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n"
	out, err := Render(d, Options{Role: nodeconfig.RoleWorker, Butane: []byte(snippet)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ignition.Parse(out); err != nil {
		t.Fatal(err)
	}
}
