package firstboot

import (
	"errors"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/testkit/golden"
)

// The README's phase table is generated from Phases(); -update rewrites it.
func TestREADMEPhaseTable(t *testing.T) {
	golden.AssertSection(t, "../README.md",
		"<!-- phases:begin (generated from firstboot.Phases(): go test ./firstboot -run TestREADMEPhaseTable -update) -->",
		"<!-- phases:end -->", []byte(PhaseTable(Phases())))
}

// Every phase says what it does, in one line, and runs on a role.
func TestPhasesAreDescribed(t *testing.T) {
	for _, p := range Phases() {
		if p.Description == "" || strings.Contains(p.Description, "\n") {
			t.Errorf("phase %s: description %q, want one line", p.Name, p.Description)
		}
		if p.AppliesTo() == "neither" {
			t.Errorf("phase %s runs on no role", p.Name)
		}
	}
	list := PhaseList(Phases())
	if !strings.Contains(list, "  init/certs ") || !strings.Contains(list, "[control plane] the node's leaf certificates") {
		t.Errorf("phase list:\n%s", list)
	}
}

func TestSkip(t *testing.T) {
	phases, err := Skip(Phases(), "preflight", "images", "handoff")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range phases {
		names = append(names, p.Name)
	}
	got := strings.Join(names, " ")
	if strings.Contains(got, "preflight") || strings.Contains(got, "images") || strings.Contains(got, "handoff") || !strings.HasPrefix(got, "config init/certs") || len(phases) != len(Phases())-3 {
		t.Errorf("Skip left %s", got)
	}
	if _, err := Skip(Phases(), "init/kubelet"); !errors.Is(err, ErrUnknownPhase) || !strings.Contains(err.Error(), `"init/kubelet"`) {
		t.Errorf("Skip of an unknown phase: %v, want ErrUnknownPhase naming it", err)
	}
}
