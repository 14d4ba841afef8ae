package firstboot_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/firstboot"
	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplanetest"
)

// Against a real kube-apiserver (brought up by the first-boot phases themselves), super-admin.conf's
// client is let in to /readyz?verbose and sees it ready; without super-admin.conf the wait says
// which file it lacks.
func TestWaitAPIServerRealControlPlane(t *testing.T) {
	cp := hostcontrolplanetest.Start(t)
	var console bytes.Buffer
	n := &firstboot.Node{Root: cp.NodeRoot, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Console: &console}
	if err := firstboot.WaitAPIServer(context.Background(), n, cp.Endpoint); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(console.String(), "[wait] kube-apiserver healthy after") {
		t.Errorf("console %q lacks the healthy line", console.String())
	}
	bare := &firstboot.Node{Root: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Console: io.Discard}
	if err := firstboot.WaitAPIServer(context.Background(), bare, cp.Endpoint); err == nil || !strings.Contains(err.Error(), "load /etc/kubernetes/super-admin.conf") {
		t.Errorf("without super-admin.conf: %v, want it named", err)
	}
}
