package firstboot

import (
	"fmt"
	"strings"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

// Roles of a phase, as AppliesTo names them.
const (
	AppliesToBoth         = "both"
	AppliesToControlPlane = "control plane"
	AppliesToWorker       = "worker"
)

// AppliesTo names the roles p runs on: AppliesToBoth, AppliesToControlPlane or AppliesToWorker.
func (p Phase) AppliesTo() string {
	if p.RunIf == nil {
		return AppliesToBoth
	}
	cp := p.RunIf(&Node{Config: &nodeconfig.NodeConfig{Role: nodeconfig.RoleControlPlane}})
	worker := p.RunIf(&Node{Config: &nodeconfig.NodeConfig{Role: nodeconfig.RoleWorker}})
	switch {
	case cp && worker:
		return AppliesToBoth
	case cp:
		return AppliesToControlPlane
	case worker:
		return AppliesToWorker
	}
	return "neither"
}

// PhaseList is phases for people, one line each: name, the roles it runs on, description.
// "kiln-agent firstboot --help" shows it.
func PhaseList(phases []Phase) string {
	width := 0
	for _, p := range phases {
		width = max(width, len(p.Name))
	}
	var b strings.Builder
	for _, p := range phases {
		fmt.Fprintf(&b, "  %-*s  [%s] %s\n", width, p.Name, p.AppliesTo(), p.Description)
	}
	return b.String()
}

// PhaseTable is phases as a Markdown table: the README's, generated from Phases().
func PhaseTable(phases []Phase) string {
	var b strings.Builder
	b.WriteString("| phase | runs on | what it does |\n|---|---|---|\n")
	for _, p := range phases {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", p.Name, p.AppliesTo(), strings.ReplaceAll(p.Description, "|", `\|`))
	}
	return b.String()
}
