package units

import (
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Every file in the table exists, and every file in the package is in the table: a unit
// added to files/ but forgotten here would silently never reach an image.
func TestTableCoversFiles(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Table {
		if _, err := Content(f); err != nil {
			t.Errorf("%s: %v", f.Path, err)
		}
		seen[f.Source] = true
	}
	entries, err := files.ReadDir("files")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("files/%s is not in Table", e.Name())
		}
	}
}

// The first-boot unit's ordering is the contract the agent relies on.
func TestFirstbootOrdering(t *testing.T) {
	data, err := Content(File{Source: "kiln-firstboot.service"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Type=oneshot", "After=containerd.service", "Before=kubelet.service",
		"Restart=on-failure", "RestartPreventExitStatus=1",
		"ConditionPathExists=!/var/lib/kiln/firstboot.done", "ExecStart=/usr/bin/kiln-agent firstboot",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("kiln-firstboot.service lacks %q", want)
		}
	}
}

// crictl on the node (the agent's failure report uses it) finds containerd through its config
// file, the socket containerd listens on, and prints no warning about a missing config.
func TestCrictlEndpoints(t *testing.T) {
	data, err := Content(File{Source: "crictl.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"runtime-endpoint", "image-endpoint"} {
		if want := key + ": " + layout.ContainerdSock + "\n"; !strings.Contains(string(data), want) {
			t.Errorf("crictl.yaml lacks %q", want)
		}
	}
}
