package firstboot

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/contract/layout"
)

// What reportContainers shows of exited containers' logs.
const (
	diagnoseExitedContainers = 4   // the newest exited containers whose logs it shows
	diagnoseLogLines         = 5   // the last lines of each
	diagnoseLineLength       = 300 // characters of a line, the rest cut
)

// reportContainers writes to the console, after a failed phase, what the container runtime
// knows: every container with its state and restart attempt, and the last log lines of the
// newest exited ones. A control plane that does not come up on a slow or broken machine shows
// there which component restarts and why, with no login to the node. Without a running
// containerd (a failure before it, or a test root) it writes nothing.
func (n *Node) reportContainers(ctx context.Context) {
	if _, err := os.Stat(n.path(strings.TrimPrefix(layout.ContainerdSock, "unix://"))); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := crictl(ctx, "ps", "--all")
	if err != nil {
		n.say("[diagnose] crictl ps --all: %v", err)
		return
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) < 2 {
		n.say("[diagnose] no containers on this node")
		return
	}
	n.say("[diagnose] containers on this node (crictl ps --all):")
	for _, row := range rows {
		n.say("[diagnose]   %s", cut(row))
	}
	shown := 0
	for _, row := range rows[1:] { // newest first
		f := strings.Fields(row)
		if len(f) < 2 || !strings.Contains(row, " Exited ") || shown == diagnoseExitedContainers {
			continue
		}
		shown++
		logs, err := crictl(ctx, "logs", "--tail", strconv.Itoa(diagnoseLogLines), f[0])
		if err != nil {
			n.say("[diagnose] crictl logs %s: %v", f[0], err)
			continue
		}
		n.say("[diagnose] last lines of exited container %s:", f[0])
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			n.say("[diagnose]   %s", cut(line))
		}
	}
}

// crictl runs crictl against containerd; its output with stderr.
func crictl(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "crictl", append([]string{"--runtime-endpoint", layout.ContainerdSock}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func cut(s string) string {
	if len(s) > diagnoseLineLength {
		return s[:diagnoseLineLength] + " …"
	}
	return s
}
