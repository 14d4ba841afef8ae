package bootchain

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/loopback"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
)

// netUp is kiln-init's line for an interface it configured.
var netUp = regexp.MustCompile(regexp.QuoteMeta(console.InitNetwork) + `\S+ \d+\.\d+\.\d+\.\d+/\d+`)

// TestConfigURL: (d) the config arrives by ignition.config.url from an HTTP server on the
// host's loopback, through a guest forward: kiln-init brings up the network (DHCP from slirp)
// and Ignition fetches the URL. The image's kernel command line sits in its ESP, so the VM
// boots the PXE bundle's kernel and initramfs directly (SeaBIOS) with the URL appended; the
// root is still the raw image's KILN-ROOT partition. The guest must get no default route
// through user networking (DESIGN.md's network rules): slirp with restrict=on leaves the router
// and DNS options out of its DHCP replies, and kiln.net.gateway=off would drop a router anyway.
func TestConfigURL(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	cfg := probeConfig(t)
	srv := loopback.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/config.ign" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.coreos.ignition+json")
		_, _ = w.Write(cfg)
	}))
	appendLine := img.KernelOptions(t) + " kiln.poweroff_on_failure kiln.net.gateway=off ignition.config.url=http://" +
		harness.DefaultGuestFwdIP + "/config.ign"
	t.Logf("kernel command line: %s", appendLine)
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	vm := harness.Start(t, harness.Config{Name: "config-url", Disk: img.Raw, Overlay: true, OverlaySize: 4 << 30,
		Kernel: filepath.Join(img.PXE, imagebuild.PXEKernel), Initrd: filepath.Join(img.PXE, imagebuild.PXEInitrd),
		Append:  appendLine,
		UserNet: &harness.UserNet{GuestForwards: []harness.GuestForward{{GuestPort: 80, HostPort: srv.Port}}}})
	line, err := vm.WaitFor(ctx, netUp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("console: %s", line.Text)
	if strings.Contains(line.Text, " via ") {
		t.Errorf("the guest got a default route through user networking: %s", line.Text)
	}
	if _, err := vm.WaitFor(ctx, ignApplied); err != nil {
		t.Fatal(err)
	}
	expectProbe(ctx, t, vm, "1")
	requests := srv.Requests()
	t.Logf("HTTP requests: %q", requests)
	if len(requests) == 0 || !strings.HasPrefix(requests[0], "GET /config.ign") {
		t.Errorf("the server saw %q, want GET /config.ign", requests)
	}
}
