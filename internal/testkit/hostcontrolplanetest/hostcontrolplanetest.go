package hostcontrolplanetest

import (
	"context"
	"errors"
	"testing"

	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplane"
)

// logTailLines is how many lines of each component's log a failed test shows.
const logTailLines = 40

// Start runs a control plane for t under t.TempDir(), through the first-boot phases, and
// returns it once it is healthy and holds the init objects.
func Start(t testing.TB) *hostcontrolplane.ControlPlane {
	t.Helper()
	bin, err := hostcontrolplane.BinDirFromEnv()
	if errors.Is(err, hostcontrolplane.ErrNoBinaries) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cp, err := hostcontrolplane.Start(context.Background(), hostcontrolplane.Options{BinDir: bin, WorkDir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(cp.LogTails(logTailLines))
		}
		cp.Stop()
	})
	return cp
}
