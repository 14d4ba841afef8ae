package bootchain

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/qemu-tests/harness"
	"github.com/kilnproject/kiln/qemu-tests/testimage"
)

// imdsToken is the session token the fake EC2 metadata service hands out.
const imdsToken = "kiln-test-imds-session-token"

// fakeIMDS is an EC2-style instance metadata service, version 2: a session token by PUT, then
// user data only with that token. It records every request.
type fakeIMDS struct {
	userData []byte
	mu       sync.Mutex
	requests []string
}

func (m *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, r.Method+" "+r.URL.Path)
	m.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing TTL", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(imdsToken))
	case r.Header.Get("X-aws-ec2-metadata-token") != imdsToken:
		http.Error(w, "IMDSv2: no session token", http.StatusUnauthorized)
	case strings.HasSuffix(r.URL.Path, "/user-data"):
		_, _ = w.Write(m.userData)
	case r.URL.Path == "/latest/meta-data/placement/region":
		_, _ = w.Write([]byte("kiln-test-1"))
	default:
		http.NotFound(w, r)
	}
}

func (m *fakeIMDS) seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// TestConfigFromMetadataService: the config comes from the platform's metadata service, read
// by Ignition's real aws provider (IMDSv2: a session token, then the user data with it).
// kiln-init brings up the network because ignition.platform.id=aws names a platform with a
// metadata service. The service is a server on the host's loopback; the guest reaches it as
// 169.254.169.254:80 through a guest forward, on a user network whose range (169.254.0.0/16)
// puts that address on the guest's own link, so no route is needed and none is given.
func TestConfigFromMetadataService(t *testing.T) {
	harness.RequireVM(t)
	img := testimage.Worker(t)
	imds := &fakeIMDS{userData: probeConfig(t)}
	srv := startHostServer(t, imds)
	appendLine := pxeOptions(t, img.PXE) + " kiln.poweroff_on_failure kiln.net.gateway=off ignition.platform.id=aws"
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
	reqs := imds.seen()
	t.Logf("metadata requests: %q", reqs)
	token, userData := -1, -1
	for i, r := range reqs {
		if r == "PUT /latest/api/token" && token < 0 {
			token = i
		}
		if strings.HasPrefix(r, "GET ") && strings.HasSuffix(r, "/user-data") && userData < 0 {
			userData = i
		}
	}
	if token < 0 || userData < token {
		t.Errorf("want a session token (PUT /latest/api/token) before the user data, saw %q", reqs)
	}
}
