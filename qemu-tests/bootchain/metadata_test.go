package bootchain

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/loopback"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
)

// TestConfigFromMetadataService: the config comes from the platform's metadata service, read
// by Ignition's real aws provider (IMDSv2: a session token, then the user data with it).
// kiln-init brings up the network because ignition.platform.id=aws names a platform with a
// metadata service. The service is a server on the host's loopback; the guest reaches it as
// 169.254.169.254:80 through a guest forward, on a user network whose range (169.254.0.0/16)
// puts that address on the guest's own link, so no route is needed and none is given.
func TestConfigFromMetadataService(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	imds := &loopback.IMDS{UserData: probeConfig(t)}
	srv := loopback.Start(t, imds)
	appendLine := img.KernelOptions(t) + " kiln.poweroff_on_failure kiln.net.gateway=off ignition.platform.id=aws"
	harness.HoldHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	vm := harness.Start(t, harness.Config{Name: "metadata", Disk: img.Raw, Overlay: true, OverlaySize: 4 << 30,
		Kernel: filepath.Join(img.PXE, imagebuild.PXEKernel), Initrd: filepath.Join(img.PXE, imagebuild.PXEInitrd),
		Append: appendLine,
		UserNet: &harness.UserNet{Net: "169.254.0.0/16",
			GuestForwards: []harness.GuestForward{{GuestAddr: "169.254.169.254", GuestPort: 80, HostPort: srv.Port}}}})
	line, err := vm.WaitFor(ctx, netUp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("console: %s", line.Text)
	if _, err := vm.WaitFor(ctx, ignApplied); err != nil {
		t.Fatal(err)
	}
	expectProbe(ctx, t, vm, "1")
	reqs := imds.Requests()
	t.Logf("metadata requests: %q", reqs)
	if !loopback.TokenBeforeUserData(reqs) {
		t.Errorf("want a session token (PUT /latest/api/token) before the user data, saw %q", reqs)
	}
}
