package vmcluster

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestMergeButane(t *testing.T) {
	extra := []byte(`variant: fcos
version: 1.7.0
storage:
  files:
  - path: /etc/extra
    contents: {inline: "x"}
  directories:
  - path: /etc/extra.d
systemd:
  units:
  - name: extra.service
    mask: true
`)
	merged, err := MergeButane(NodeButane("n", "52:54:00:00:00:01", "192.168.100.20"), extra)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Variant string
		Storage struct {
			Files       []struct{ Path string }
			Directories []struct{ Path string }
		}
		Systemd struct{ Units []struct{ Name string } }
	}
	if err := yaml.Unmarshal(merged, &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range doc.Storage.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "/etc/systemd/network/10-cluster.network /etc/resolv.conf /etc/hostname /etc/extra" {
		t.Errorf("files: %s", got)
	}
	if doc.Variant != "fcos" || len(doc.Storage.Directories) != 1 || len(doc.Systemd.Units) != 1 {
		t.Errorf("merged: %s", merged)
	}

	for _, bad := range []struct{ snippet, want string }{
		{"variant: fcos\nversion: 1.6.0\n", "version"},
		{"variant: fcos\nversion: 1.7.0\npasswd: {users: [{name: core}]}\n", `"passwd"`},
		{"variant: fcos\nversion: 1.7.0\nstorage: {files: {path: /x}}\n", "storage.files is not a list"},
	} {
		if _, err := MergeButane(NodeButane("n", "52:54:00:00:00:01", "192.168.100.20"), []byte(bad.snippet)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one naming %s", bad.snippet, err, bad.want)
		}
	}
}
