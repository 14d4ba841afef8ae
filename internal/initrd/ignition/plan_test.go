package ignition

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/platform"
	"github.com/kilnproject/kiln/internal/testkit/fakesys"
)

// fakeSources is a machine with or without a network and some labelled filesystems.
type fakeSources struct {
	net   bool
	files map[LabelledFile][]byte // nil content: the filesystem exists without the file
	calls []bool                  // the wait argument of each readLabelled call
}

func (f *fakeSources) NetworkUp() bool { return f.net }

func (f *fakeSources) ReadLabelled(_ context.Context, files []LabelledFile, wait bool) ([]byte, string, bool, error) {
	f.calls = append(f.calls, wait)
	for _, lf := range files {
		for k, data := range f.files {
			if k.Label == lf.Label {
				if k.Path == lf.Path {
					return data, "sr1 (iso9660 " + lf.Label + ")", true, nil
				}
				return nil, "sr1", true, nil
			}
		}
	}
	if wait {
		return nil, "", false, poll.ErrTimeout
	}
	return nil, "", false, nil
}

// sysWith returns a fake /sys with QEMU's fw_cfg directory (qemu) and Ignition's blob in it (config).
func sysWith(t *testing.T, qemu, config bool) string {
	t.Helper()
	sys := t.TempDir()
	if qemu {
		fakesys.WriteFile(t, filepath.Join(sys, "firmware/qemu_fw_cfg/by_name/etc/boot-menu-wait/raw"), "")
	}
	if config {
		fakesys.WriteFile(t, filepath.Join(sys, fwCfgConfig), `{"ignition":{"version":"3.4.0"}}`)
	}
	return sys
}

// request is the Request of a kernel command line of Ignition's parameters only.
func request(t *testing.T, cmdline string) Request {
	t.Helper()
	var r Request
	for _, w := range strings.Fields(cmdline) {
		key, val, _ := strings.Cut(w, "=")
		switch key {
		case bootargs.IgnitionURL:
			r.URL = val
		case bootargs.IgnitionDevice:
			r.Device = val
		case bootargs.IgnitionPath:
			r.Path = val
		case bootargs.IgnitionPlatform:
			r.Platform = val
		default:
			t.Fatalf("%s is not an Ignition parameter", w)
		}
	}
	return r
}

func TestDetectPlatform(t *testing.T) {
	for _, tc := range []struct {
		name, cmdline string
		qemu          bool
		want          string
	}{
		{"qemu", "", true, platform.QEMU},
		{"metal", "", false, platform.Metal},
		{"cmdline wins", "ignition.platform.id=openstack", true, "openstack"},
	} {
		c := request(t, tc.cmdline)
		if got := DetectPlatform(c, sysWith(t, tc.qemu, false)); got != tc.want {
			t.Errorf("%s: DetectPlatform = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPlanIgnition(t *testing.T) {
	drive := map[LabelledFile][]byte{{"config-2", "openstack/latest/user_data"}: []byte("drive")}
	for _, tc := range []struct {
		name, cmdline string
		qemu, fwcfg   bool
		src           fakeSources
		want          Plan
		wantErr       error
	}{
		{name: "nothing", qemu: true, want: Plan{Platform: platform.QEMU}},
		{name: "nothing on metal", want: Plan{Platform: platform.Metal}},
		{name: "fw_cfg", qemu: true, fwcfg: true, src: fakeSources{files: drive},
			want: Plan{Platform: platform.QEMU, Source: "QEMU fw_cfg opt/com.coreos/config"}},
		{name: "fw_cfg ignored for another platform", cmdline: "ignition.platform.id=metal", qemu: true, fwcfg: true,
			want: Plan{Platform: platform.Metal}},
		{name: "data url before fw_cfg", cmdline: "ignition.config.url=data:,{}", qemu: true, fwcfg: true,
			want: Plan{Platform: platform.QEMU, Source: "ignition.config.url (data)"}},
		{name: "http url without network", cmdline: "ignition.config.url=http://10.0.2.2/n.ign", qemu: true, wantErr: ErrNoNetwork},
		{name: "http url with network", cmdline: "ignition.config.url=https://10.0.2.2/n.ign", src: fakeSources{net: true},
			want: Plan{Platform: platform.Metal, Source: "ignition.config.url (https)"}},
		{name: "odd url", cmdline: "ignition.config.url=gopher://x/", wantErr: bootargs.ErrInvalid},
		{name: "config drive", qemu: true, src: fakeSources{files: drive},
			want: Plan{Platform: platform.QEMU, Source: "config drive sr1 (iso9660 config-2)", UserConfig: []byte("drive")}},
		{name: "cidata", src: fakeSources{files: map[LabelledFile][]byte{{"CIDATA", "user-data"}: []byte("nocloud")}},
			want: Plan{Platform: platform.Metal, Source: "config drive sr1 (iso9660 CIDATA)", UserConfig: []byte("nocloud")}},
		{name: "config drive without user data", src: fakeSources{files: map[LabelledFile][]byte{{"config-2", "other"}: []byte("x")}},
			want: Plan{Platform: platform.Metal}},
		{name: "device and path", cmdline: "ignition.config.device=CFG ignition.config.path=/n.ign",
			src:  fakeSources{files: map[LabelledFile][]byte{{"CFG", "/n.ign"}: []byte("dev")}},
			want: Plan{Platform: platform.Metal, Source: "sr1 (iso9660 CFG) (/n.ign)", UserConfig: []byte("dev")}},
		{name: "device without the file", cmdline: "ignition.config.device=CFG ignition.config.path=/n.ign",
			src: fakeSources{files: map[LabelledFile][]byte{{"CFG", "/other"}: nil}}, wantErr: errNotExist},
		{name: "device never appears", cmdline: "ignition.config.device=CFG ignition.config.path=/n.ign", wantErr: poll.ErrTimeout},
		{name: "device without path", cmdline: "ignition.config.device=CFG", wantErr: bootargs.ErrInvalid},
		{name: "metadata service needs the network", cmdline: "ignition.platform.id=aws", wantErr: ErrNoNetwork},
		{name: "metadata service", cmdline: "ignition.platform.id=aws", src: fakeSources{net: true},
			want: Plan{Platform: "aws", Source: "the aws metadata service"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			got, err := MakePlan(context.Background(), request(t, tc.cmdline), sysWith(t, tc.qemu, tc.fwcfg), &src)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("MakePlan error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MakePlan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlatformTable checks, for each platform of the platform table, that kiln-init's two
// decisions agree with it and with each other: NetworkReason brings the network up exactly for
// the platforms whose config needs it, and planIgnition, with no network and no config drive,
// refuses exactly those and otherwise runs Ignition with the platform's own source. Before the
// table, ignition.platform.id=vmware (virtualbox, file) got no network and then failed for
// the lack of one.
func TestPlatformTable(t *testing.T) {
	for _, pl := range platform.All() {
		t.Run(pl.ID, func(t *testing.T) {
			c := Request{Platform: pl.ID}
			if why := NetworkReason(c); (why != "") != pl.NeedsNetwork() {
				t.Errorf("NetworkReason = %q, want a reason: %v", why, pl.NeedsNetwork())
			}
			fwcfg := pl.Source == platform.FwCfg
			got, err := MakePlan(context.Background(), c, sysWith(t, fwcfg, fwcfg), &fakeSources{})
			if pl.NeedsNetwork() {
				if !errors.Is(err, ErrNoNetwork) {
					t.Errorf("MakePlan without a network = %+v, %v; want ErrNoNetwork", got, err)
				}
				got, err = MakePlan(context.Background(), c, sysWith(t, false, false), &fakeSources{net: true})
			}
			if err != nil {
				t.Fatalf("MakePlan: %v", err)
			}
			if want := (Plan{Platform: pl.ID, Source: pl.Config}); !cmp.Equal(got, want) {
				t.Errorf("MakePlan = %+v, want %+v", got, want)
			}
		})
	}
	t.Run("unknown platform", func(t *testing.T) {
		if NetworkReason(Request{Platform: "some-new-cloud"}) == "" {
			t.Error("no network for a platform kiln does not know: its provider likely reads a metadata service")
		}
	})
}

func TestNetworkReason(t *testing.T) {
	for url, want := range map[string]bool{
		"":                                 false,
		"http://10.0.2.100/config.ign":     true,
		"https://example.com/node.ign":     true,
		"tftp://10.0.2.2/node.ign":         true,
		"s3://bucket/node.ign":             true,
		"data:,{}":                         false,
		"file:///x.ign":                    false,
		"://bad":                           false, // MakePlan reports it
		"HTTP://10.0.2.100/upper-case.ign": true,
	} {
		if got := NetworkReason(Request{URL: url}) != ""; got != want {
			t.Errorf("NetworkReason(%q) needs the network: %v, want %v", url, got, want)
		}
	}
	// Platforms with a metadata service need the network; those without do not. A URL wins
	// over the platform, as in Ignition.
	for id, want := range map[string]bool{"aws": true, "openstack": true, "gcp": true, "metal": false, "qemu": false, "vmware": false} {
		if got := NetworkReason(Request{Platform: id}) != ""; got != want {
			t.Errorf("platform %s needs the network: %v, want %v", id, got, want)
		}
	}
	if r := NetworkReason(Request{Platform: "aws", URL: "data:,{}"}); r != "" {
		t.Errorf("a data: URL on aws needs the network: %q", r)
	}
}
