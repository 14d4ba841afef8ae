package firstboot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

// meet returns two phases that each wait for the other to have started: run one after the
// other, the first would wait in vain until its deadline. While both wait, check runs.
func meet(t *testing.T, a, b string, check func()) (Phase, Phase) {
	started := map[string]chan struct{}{a: make(chan struct{}), b: make(chan struct{})}
	var once sync.Once
	run := func(self, other string) func(context.Context, *Node) error {
		return func(ctx context.Context, _ *Node) error {
			close(started[self])
			select {
			case <-started[other]:
			case <-time.After(10 * time.Second):
				return fmt.Errorf("%s waited 10s for %s to start beside it", self, other)
			}
			once.Do(check)
			return nil
		}
	}
	return Phase{Name: a, Run: run(a, b), Parallel: true}, Phase{Name: b, Run: run(b, a), Parallel: true}
}

// Parallel phases run side by side, a phase that does not apply between them does not split
// them, the status shows them running together, and the next phase waits for both.
func TestParallelPhasesRunSideBySide(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	n.Config = &nodeconfig.NodeConfig{Role: nodeconfig.RoleWorker}
	var during *Status
	b, c := meet(t, "b", "c", func() {
		var err error
		if during, err = ReadStatus(n.Root); err != nil {
			t.Error(err)
		}
	})
	var order []string
	var mu sync.Mutex
	record := func(name string, p Phase) Phase {
		run := p.Run
		p.Run = func(ctx context.Context, n *Node) error {
			err := run(ctx, n)
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return err
		}
		return p
	}
	phases := []Phase{
		record("a", Phase{Name: "a", Run: func(context.Context, *Node) error { return nil }}),
		record("b", b),
		{Name: "cp-only", RunIf: (*Node).isControlPlane},
		record("c", c),
		record("d", Phase{Name: "d", Run: func(context.Context, *Node) error { return nil }}),
	}
	if err := Run(context.Background(), n, phases); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "a,b,c,d" && got != "a,c,b,d" {
		t.Errorf("phases ended in the order %s", got)
	}
	if during == nil || during.Phase != "b, c" {
		t.Fatalf("status while b and c ran: %+v, want phase \"b, c\"", during)
	}
	for _, p := range during.Phases {
		if (p.Name == "b" || p.Name == "c") && p.State != "running" {
			t.Errorf("status while b and c ran: %s is %s", p.Name, p.State)
		}
	}
	for _, want := range []string{"[b] done in ", "[c] done in ", "[d] done in "} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
}

// When a phase fails, the phases beside it are cancelled and waited for; only the failure is
// reported as one, and nothing after the group runs.
func TestParallelFailureCancelsTheOthers(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	boom := errors.New("the controller manager never answered")
	sibling := make(chan error, 1)
	phases := []Phase{
		{Name: "waits", Parallel: true, Run: func(ctx context.Context, _ *Node) error {
			select {
			case <-ctx.Done():
				sibling <- ctx.Err()
				return fmt.Errorf("stopped: %w", ctx.Err())
			case <-time.After(10 * time.Second):
				sibling <- nil
				return errors.New("not cancelled within 10s")
			}
		}},
		{Name: "fails", Parallel: true, Run: func(context.Context, *Node) error { return boom }},
		{Name: "after", Run: func(context.Context, *Node) error { t.Error("a phase after the failed group ran"); return nil }},
	}
	err := Run(context.Background(), n, phases)
	if !errors.Is(err, ErrPhase) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "in phase fails") {
		t.Fatalf("Run = %v, want ErrPhase in phase fails wrapping its error", err)
	}
	if got := <-sibling; !errors.Is(got, context.Canceled) {
		t.Errorf("the phase beside the failure ended with %v, want context.Canceled", got)
	}
	st, err := ReadStatus(n.Root)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, p := range st.Phases {
		states[p.Name] = p.State
	}
	if st.State != StateFailed || st.Phase != "fails" || states["fails"] != "failed" || states["waits"] != "cancelled" || states["after"] != "pending" {
		t.Errorf("status %s, phase %q, phases %v", st.State, st.Phase, states)
	}
	if strings.Count(console.String(), "FAILED after") != 1 || !strings.Contains(console.String(), "[fails] FAILED after") {
		t.Errorf("console should report exactly the one failure:\n%s", console)
	}
}
