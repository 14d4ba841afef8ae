package fence

import (
	"strings"
	"testing"
)

// The rules of kiln's graph. kiln-init is PID 1 of the initramfs: a small static binary of
// kiln's contract, common and initrd packages, golang.org/x/sys and go-diskfs's GPT reader
// (pure Go), never client-go or any other k8s.io package. The bootstrap token package stays
// light so that any program may parse a token.
var rules = []Rule{
	{Root: Module + "/cmd/kiln-init", NoCgo: true,
		Allow: Under([]string{"internal/contract", "internal/common", "internal/initrd"},
			"golang.org/x/sys/", "github.com/diskfs/go-diskfs/partition/", "github.com/diskfs/go-diskfs/backend", "github.com/google/uuid")},
	{Root: Module + "/cmd/kiln-pause", NoCgo: true, Allow: Under(nil)},
	{Root: Module + "/internal/cluster/token", NoCgo: true, Allow: Under([]string{"internal/common"})},
	// The agent never carries the build side, the CLI never the agent's packages, and no
	// program the test kit.
	{Root: Module + "/cmd/kiln-agent", Allow: Except("internal/build", "imagebuild", "internal/initrd", "internal/testkit")},
	{Root: Module + "/cmd/kiln", Allow: Except("internal/agent", "firstboot", "internal/initrd", "internal/testkit")},
}

// groupRules hold for every package of a group: what the CLI and the agent share depends on
// neither of them.
var groupRules = map[string]func(string) bool{
	"internal/cluster": Except("internal/build", "imagebuild", "internal/agent", "firstboot", "internal/initrd", "internal/testkit"),
}

// bottom lists the groups at the bottom of the graph, with what each may import besides the
// standard library: contract packages nothing else; common packages each other, the contract
// and, for strictyaml, the YAML libraries.
var bottom = map[string]func(string) bool{
	"internal/contract": Under([]string{"internal/contract"}),
	"internal/common":   Under([]string{"internal/contract", "internal/common"}, "sigs.k8s.io/yaml", "sigs.k8s.io/json", "go.yaml.in/yaml/"),
}

func TestDependencyFence(t *testing.T) {
	g, err := Load("../../..", "./...")
	if err != nil {
		t.Fatal(err)
	}
	all := rules
	for path := range g {
		for group, allow := range groupRules {
			if strings.HasPrefix(path, Module+"/"+group+"/") {
				all = append(all, Rule{Root: path, Allow: allow})
			}
		}
		for group, allow := range bottom {
			if strings.HasPrefix(path, Module+"/"+group+"/") {
				all = append(all, Rule{Root: path, NoCgo: true, Allow: allow})
			}
		}
	}
	for _, r := range all {
		if _, ok := g[r.Root]; !ok {
			t.Errorf("rule for %s: no such package", r.Root)
			continue
		}
		for _, p := range r.Check(g) {
			t.Error(p)
		}
	}
}

// TestRuleCheckCatches proves the check fails: a made-up graph where kiln-init reaches client-go
// through a kiln package, and a cgo package.
func TestRuleCheckCatches(t *testing.T) {
	init := Module + "/cmd/kiln-init"
	g := Graph{
		init:                                {ImportPath: init, Imports: []string{"os", Module + "/internal/initrd/boot"}},
		"os":                                {ImportPath: "os", Standard: true},
		Module + "/internal/initrd/boot":    {ImportPath: Module + "/internal/initrd/boot", Imports: []string{Module + "/internal/cluster/config", "example.com/blkid"}},
		Module + "/internal/cluster/config": {ImportPath: Module + "/internal/cluster/config", Imports: []string{"k8s.io/client-go/rest"}},
		"example.com/blkid":                 {ImportPath: "example.com/blkid", CgoFiles: []string{"blkid.go"}},
		"k8s.io/client-go/rest":             {ImportPath: "k8s.io/client-go/rest"},
	}
	r := Rule{Root: init, NoCgo: true, Allow: Under([]string{"internal/initrd"}, "example.com/")}
	got := r.Check(g)
	want := []string{
		"cmd/kiln-init → internal/initrd/boot → internal/cluster/config",
		"cmd/kiln-init → internal/initrd/boot → example.com/blkid",
	}
	if len(got) != len(want) {
		t.Fatalf("Check = %q, want %d problems", got, len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d = %q, want the chain %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "may not import") || !strings.Contains(got[1], "needs cgo") {
		t.Errorf("problems %q do not say what is wrong", got)
	}
}
