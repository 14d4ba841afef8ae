package firstboot

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
	"github.com/kilnproject/kiln/internal/testkit/fakesystemd"
)

// fakeKubelet is a kubelet.service whose start serves kubelet's health endpoint on a free port,
// which n's Ports moves kubelet's health port to.
func fakeKubelet(t *testing.T, n *Node) fakesystemd.StartFunc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	n.Ports = map[int]int{kubeadm.KubeletHealthzPort: l.Addr().(*net.TCPAddr).Port}
	return func(context.Context) error {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				w.Write([]byte("ok"))
				return
			}
			http.NotFound(w, r)
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		return nil
	}
}

// kubelet-start starts kubelet.service and waits for its health endpoint; a kubelet an earlier
// run started is not started again.
func TestStartKubelet(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	sd := fakesystemd.New(map[string]fakesystemd.StartFunc{KubeletUnit: fakeKubelet(t, n)})
	n.Systemd = sd
	if err := startKubelet(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := sd.Starts(); !slices.Equal(got, []string{KubeletUnit}) {
		t.Errorf("started %v, want kubelet.service", got)
	}
	if !strings.Contains(console.String(), "[wait] kubelet healthy after") {
		t.Errorf("console lacks the healthy line:\n%s", console)
	}
	// The rerun after an interruption: kubelet is active, only its health is waited for.
	if err := startKubelet(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := sd.Starts(); len(got) != 1 {
		t.Errorf("an active kubelet was started again: %v", got)
	}
}

// A kubelet whose start job fails stops the phase with systemd's error; one that never answers
// on its health port stops it at Timeouts.KubeletHealthy, with the last answer.
func TestStartKubeletFails(t *testing.T) {
	n, _, _ := testNode(t.TempDir())
	boom := errors.New("kubelet.service: exit status 1")
	n.Systemd = fakesystemd.New(map[string]fakesystemd.StartFunc{KubeletUnit: func(context.Context) error { return boom }})
	if err := startKubelet(context.Background(), n); !errors.Is(err, boom) {
		t.Errorf("failed start job: %v, want its error", err)
	}

	n, _, _ = testNode(t.TempDir())
	fakeKubelet(t, n) // the port, with nothing serving it
	n.Systemd = fakesystemd.New(map[string]fakesystemd.StartFunc{KubeletUnit: nil})
	n.Timeouts.KubeletHealthy = 1500 * time.Millisecond
	err := startKubelet(context.Background(), n)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "kubelet not healthy at http://127.0.0.1:") || !strings.Contains(err.Error(), "last answer: ") {
		t.Errorf("silent kubelet: %v, want ErrTimeout with the last answer", err)
	}
}

// handoff starts the pod-route keeper and writes the completion stamp with the time; a
// control plane names admin.conf for the operator.
func TestHandoff(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	n.Config = &nodeconfig.NodeConfig{Role: nodeconfig.RoleControlPlane}
	n.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	sd := fakesystemd.New(map[string]fakesystemd.StartFunc{RoutesUnit: nil})
	n.Systemd = sd
	if err := handoff(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := sd.Starts(); !slices.Equal(got, []string{RoutesUnit}) {
		t.Errorf("started %v, want %s", got, RoutesUnit)
	}
	stamp, err := os.ReadFile(n.path(DoneStamp))
	if err != nil || string(stamp) != "2026-01-02T03:04:05Z\n" {
		t.Errorf("stamp %q (%v)", stamp, err)
	}
	if want := "kubectl --kubeconfig " + layout.KubeconfigPath(layout.AdminConf) + " get nodes"; !strings.Contains(console.String(), want) {
		t.Errorf("console lacks %q:\n%s", want, console)
	}
}

// When the pod-route keeper does not start, handoff fails and writes no stamp: the next boot
// runs the first boot again.
func TestHandoffUnitFails(t *testing.T) {
	n, _, _ := testNode(t.TempDir())
	n.Config = &nodeconfig.NodeConfig{Role: nodeconfig.RoleWorker}
	n.Systemd = fakesystemd.New(nil)
	if err := handoff(context.Background(), n); !errors.Is(err, fakesystemd.ErrNotFound) {
		t.Errorf("handoff = %v, want the unit's start error", err)
	}
	if n.exists(DoneStamp) {
		t.Error("a failed handoff wrote the completion stamp")
	}
}
