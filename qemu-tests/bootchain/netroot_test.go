package bootchain

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/loopback"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
)

// TestRootOverNetwork: a diskless machine boots the PXE bundle. kiln-init brings up the network,
// downloads the root squashfs named by kiln.root.url from a server on the host's loopback
// (through a guest forward), checks it against the kiln.root.sha256 the bundle's boot.ipxe
// carries, and runs from it in RAM; Ignition then applies the config from the same server.
func TestRootOverNetwork(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	script, err := os.ReadFile(filepath.Join(img.PXE, imagebuild.PXEScript))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(bootargs.RootSHA256) + `=([0-9a-f]{64})`).FindSubmatch(script)
	if m == nil {
		t.Fatalf("%s carries no %s:\n%s", imagebuild.PXEScript, bootargs.RootSHA256, script)
	}
	cfg := probeConfig(t)
	srv := loopback.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + imagebuild.PXERoot:
			http.ServeFile(w, r, filepath.Join(img.PXE, imagebuild.PXERoot))
		case "/config.ign":
			_, _ = w.Write(cfg)
		default:
			http.NotFound(w, r)
		}
	}))
	base := "http://" + harness.DefaultGuestFwdIP
	appendLine := img.KernelOptions(t) + " " + bootargs.Poweroff + " " + bootargs.NetGateway + "=off" +
		" " + bootargs.RootURL + "=" + base + "/" + imagebuild.PXERoot + " " + bootargs.RootSHA256 + "=" + string(m[1]) +
		" " + bootargs.IgnitionURL + "=" + base + "/config.ign"
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	vm := harness.Start(t, harness.Config{Name: "net-root", MemoryMiB: 2048,
		Kernel: filepath.Join(img.PXE, imagebuild.PXEKernel), Initrd: filepath.Join(img.PXE, imagebuild.PXEInitrd),
		Append:  appendLine,
		UserNet: &harness.UserNet{GuestForwards: []harness.GuestForward{{GuestPort: 80, HostPort: srv.Port}}}})
	line, err := vm.WaitFor(ctx, regexp.MustCompile(regexp.QuoteMeta(console.InitFetchedRoot)+`.* `+regexp.QuoteMeta(console.InitRootVerified)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("console: %s", line.Text)
	if _, err := vm.WaitFor(ctx, regexp.MustCompile(regexp.QuoteMeta(console.InitVolatile)+`the root squashfs in RAM`)); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.WaitFor(ctx, ignApplied); err != nil {
		t.Fatal(err)
	}
	expectProbe(ctx, t, vm, "1")
	requests := srv.Requests()
	t.Logf("HTTP requests: %q", requests)
	if len(requests) < 2 || !strings.HasPrefix(requests[0], "GET /"+imagebuild.PXERoot+" kiln-init") {
		t.Errorf("want kiln-init's GET of the root first, then the config; saw %q", requests)
	}
}
