package platform

import (
	"slices"
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	if !slices.IsSortedFunc(table, func(a, b Platform) int { return strings.Compare(a.ID, b.ID) }) {
		t.Fatal("table is not sorted by ID: Lookup needs that")
	}
	for i, p := range table {
		if i > 0 && table[i-1].ID == p.ID {
			t.Errorf("%s twice", p.ID)
		}
		if got, known := Lookup(p.ID); !known || got != p {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", p.ID, got, known, p)
		}
		if (p.Source == None) != (p.Config == "") {
			t.Errorf("%s: source %d with config %q", p.ID, p.Source, p.Config)
		}
	}
}

func TestNeedsNetwork(t *testing.T) {
	offline := []string{"file", Metal, QEMU, "virtualbox", "vmware"}
	for _, p := range All() {
		if want := !slices.Contains(offline, p.ID); p.NeedsNetwork() != want {
			t.Errorf("%s: NeedsNetwork = %v, want %v", p.ID, p.NeedsNetwork(), want)
		}
	}
	p, known := Lookup("some-new-cloud")
	if known || !p.NeedsNetwork() || p.Config != "the some-new-cloud metadata service" {
		t.Errorf("Lookup of an unknown platform = %+v, %v; want a metadata service", p, known)
	}
}
