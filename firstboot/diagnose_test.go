package firstboot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/contract/layout"
)

// After a failed phase the console shows every container and the log tail of exited ones.
func TestReportContainers(t *testing.T) {
	root := t.TempDir()
	write(t, root, strings.TrimPrefix(layout.ContainerdSock, "unix://"), nil, 0o600)
	bin := t.TempDir()
	script := `#!/bin/sh
case "$3" in
ps) cat <<'TABLE'
CONTAINER      IMAGE          CREATED          STATE     NAME                      ATTEMPT   POD ID         POD
aaa111         6f1d6bd1       10 seconds ago   Running   kube-controller-manager   3         p1             kube-controller-manager-cp-1
bbb222         6f1d6bd1       2 minutes ago    Exited    kube-controller-manager   2         p1             kube-controller-manager-cp-1
ccc333         9e2a1c77       5 minutes ago    Running   kube-apiserver            0         p2             kube-apiserver-cp-1
TABLE
;;
logs) echo "logs of $6 (last $5)"; echo "E1202 leaderelection.go:448] failed to renew lease: timed out" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "crictl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	n, _, console := testNode(root)

	n.reportContainers(context.Background())
	got := console.String()
	for _, want := range []string{
		"[diagnose] containers on this node (crictl ps --all):\n",
		"[diagnose]   bbb222         6f1d6bd1       2 minutes ago    Exited    kube-controller-manager   2",
		"[diagnose] last lines of exited container bbb222:\n[diagnose]   logs of bbb222 (last 5)\n[diagnose]   E1202 leaderelection.go:448] failed to renew lease",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "exited container aaa111") || strings.Contains(got, "exited container ccc333") {
		t.Errorf("logs of running containers shown:\n%s", got)
	}
}

// Without containerd there is nothing to report, and nothing is written.
func TestReportContainersWithoutContainerd(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	n.reportContainers(context.Background())
	if console.Len() != 0 {
		t.Errorf("console: %q", console.String())
	}
}
