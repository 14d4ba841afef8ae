package imagebuild

import (
	"fmt"
	"os"
	"path/filepath"
)

// kilnBinaries are kiln's own node-side programs, taken from a directory (by default the one
// the running kiln binary is in: `make build` puts them side by side in bin/).
type kilnBinaries struct {
	init  string // kiln-init: the initramfs's PID 1 (required)
	agent string // kiln-agent: the first-boot agent (required)
}

type placement struct{ src, dst string }

// Where kiln's programs live on a node.
const (
	agentPath = "/usr/bin/kiln-agent"
	initPath  = "/init"
)

func findKilnBinaries(dir string) (kilnBinaries, error) {
	if dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return kilnBinaries{}, err
		}
		dir = filepath.Dir(exe)
	}
	k := kilnBinaries{init: filepath.Join(dir, "kiln-init")}
	if _, err := os.Stat(k.init); err != nil {
		return kilnBinaries{}, fmt.Errorf("kiln-init not found in %s (make build puts it next to kiln; or pass --kiln-bin DIR): %w", dir, err)
	}
	k.agent = filepath.Join(dir, "kiln-agent")
	if _, err := os.Stat(k.agent); err != nil {
		return kilnBinaries{}, fmt.Errorf("kiln-agent not found in %s (make build puts it next to kiln; or pass --kiln-bin DIR): %w", dir, err)
	}
	return k, nil
}

// payload is what goes into the root filesystem.
func (k kilnBinaries) payload() []placement {
	return []placement{{k.agent, agentPath}}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
