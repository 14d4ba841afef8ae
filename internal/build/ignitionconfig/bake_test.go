package ignitionconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestBake(t *testing.T) {
	b, err := Bake([]byte(`variant: fcos
version: 1.7.0
storage:
  directories: [{path: /etc/kiln-extra, mode: 0700}]
  files:
  - path: /etc/motd
    mode: 0644
    contents: {inline: "a kiln node\n"}
  links: [{path: /usr/local/bin/k, target: /usr/bin/kubectl}]
systemd:
  units:
  - name: hello.service
    enabled: true
    contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
  - name: kubelet.service
    dropins: [{name: 10-extra.conf, contents: "[Service]\nEnvironment=X=1\n"}]
`))
	if err != nil {
		t.Fatalf("Bake: %v", err)
	}
	if len(b.Files) != 1 || b.Files[0].Path != "/etc/motd" || string(b.Files[0].Contents) != "a kiln node\n" || b.Files[0].Mode != 0o644 {
		t.Errorf("files: %+v", b.Files)
	}
	if len(b.Dirs) != 1 || b.Dirs[0].Mode != 0o700 {
		t.Errorf("dirs: %+v", b.Dirs)
	}
	if len(b.Links) != 1 || b.Links[0].Target != "/usr/bin/kubectl" || b.Links[0].Hard {
		t.Errorf("links: %+v", b.Links)
	}
	if len(b.Units) != 2 || b.Units[0].Enabled == nil || !*b.Units[0].Enabled || len(b.Units[1].Dropins) != 1 {
		t.Errorf("units: %+v", b.Units)
	}
}

func TestBakeRefusesNodeOnly(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"users", "passwd:\n  users: [{name: core}]\n", "passwd"},
		{"remote file", "storage:\n  files: [{path: /x, contents: {source: \"https://example.invalid/x\"}}]\n", "remote source"},
		{"disks", "storage:\n  disks: [{device: /dev/vdb, wipe_table: true}]\n", "storage"},
		{"merge", "ignition:\n  config:\n    merge: [{source: \"https://example.invalid/c.ign\"}]\n", "ignition.config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Bake([]byte("variant: fcos\nversion: 1.7.0\n" + tt.body))
			if !errors.Is(err, ErrNotBakeable) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Bake error = %v, want ErrNotBakeable mentioning %q", err, tt.want)
			}
		})
	}
}
