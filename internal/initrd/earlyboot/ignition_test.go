package earlyboot

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/platform"
)

// fakeSources is a machine with or without a network and some labelled filesystems.
type fakeSources struct {
	net   bool
	files map[labelledFile][]byte // nil content: the filesystem exists without the file
	calls []bool                  // the wait argument of each readLabelled call
}

func (f *fakeSources) networkUp() bool { return f.net }

func (f *fakeSources) readLabelled(_ context.Context, files []labelledFile, wait bool) ([]byte, string, bool, error) {
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
		writeFile(t, filepath.Join(sys, "firmware/qemu_fw_cfg/by_name/etc/boot-menu-wait/raw"), "")
	}
	if config {
		writeFile(t, filepath.Join(sys, fwCfgConfig), `{"ignition":{"version":"3.4.0"}}`)
	}
	return sys
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
		c, _ := ParseCmdline(tc.cmdline)
		if got := detectPlatform(c, sysWith(t, tc.qemu, false)); got != tc.want {
			t.Errorf("%s: detectPlatform = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPlanIgnition(t *testing.T) {
	drive := map[labelledFile][]byte{{"config-2", "openstack/latest/user_data"}: []byte("drive")}
	for _, tc := range []struct {
		name, cmdline string
		qemu, fwcfg   bool
		src           fakeSources
		want          ignitionPlan
		wantErr       error
	}{
		{name: "nothing", qemu: true, want: ignitionPlan{Platform: platform.QEMU}},
		{name: "nothing on metal", want: ignitionPlan{Platform: platform.Metal}},
		{name: "fw_cfg", qemu: true, fwcfg: true, src: fakeSources{files: drive},
			want: ignitionPlan{Platform: platform.QEMU, Source: "QEMU fw_cfg opt/com.coreos/config"}},
		{name: "fw_cfg ignored for another platform", cmdline: "ignition.platform.id=metal", qemu: true, fwcfg: true,
			want: ignitionPlan{Platform: platform.Metal}},
		{name: "data url before fw_cfg", cmdline: "ignition.config.url=data:,{}", qemu: true, fwcfg: true,
			want: ignitionPlan{Platform: platform.QEMU, Source: "ignition.config.url (data)"}},
		{name: "http url without network", cmdline: "ignition.config.url=http://10.0.2.2/n.ign", qemu: true, wantErr: ErrNoNetwork},
		{name: "http url with network", cmdline: "ignition.config.url=https://10.0.2.2/n.ign", src: fakeSources{net: true},
			want: ignitionPlan{Platform: platform.Metal, Source: "ignition.config.url (https)"}},
		{name: "odd url", cmdline: "ignition.config.url=gopher://x/", wantErr: ErrInvalidCmdline},
		{name: "config drive", qemu: true, src: fakeSources{files: drive},
			want: ignitionPlan{Platform: platform.QEMU, Source: "config drive sr1 (iso9660 config-2)", UserConfig: []byte("drive")}},
		{name: "cidata", src: fakeSources{files: map[labelledFile][]byte{{"CIDATA", "user-data"}: []byte("nocloud")}},
			want: ignitionPlan{Platform: platform.Metal, Source: "config drive sr1 (iso9660 CIDATA)", UserConfig: []byte("nocloud")}},
		{name: "config drive without user data", src: fakeSources{files: map[labelledFile][]byte{{"config-2", "other"}: []byte("x")}},
			want: ignitionPlan{Platform: platform.Metal}},
		{name: "device and path", cmdline: "ignition.config.device=CFG ignition.config.path=/n.ign",
			src:  fakeSources{files: map[labelledFile][]byte{{"CFG", "/n.ign"}: []byte("dev")}},
			want: ignitionPlan{Platform: platform.Metal, Source: "sr1 (iso9660 CFG) (/n.ign)", UserConfig: []byte("dev")}},
		{name: "device without the file", cmdline: "ignition.config.device=CFG ignition.config.path=/n.ign",
			src: fakeSources{files: map[labelledFile][]byte{{"CFG", "/other"}: nil}}, wantErr: errNotExist},
		{name: "device never appears", cmdline: "ignition.config.device=CFG ignition.config.path=/n.ign", wantErr: poll.ErrTimeout},
		{name: "device without path", cmdline: "ignition.config.device=CFG", wantErr: ErrInvalidCmdline},
		{name: "metadata service needs the network", cmdline: "ignition.platform.id=aws", wantErr: ErrNoNetwork},
		{name: "metadata service", cmdline: "ignition.platform.id=aws", src: fakeSources{net: true},
			want: ignitionPlan{Platform: "aws", Source: "the aws metadata service"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCmdline(tc.cmdline)
			if err != nil {
				t.Fatal(err)
			}
			src := tc.src
			got, err := planIgnition(context.Background(), c, sysWith(t, tc.qemu, tc.fwcfg), &src)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("planIgnition error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("planIgnition (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlatformTable checks, for each platform of the platform table, that kiln-init's two
// decisions agree with it and with each other: networkReason brings the network up exactly for
// the platforms whose config needs it, and planIgnition, with no network and no config drive,
// refuses exactly those and otherwise runs Ignition with the platform's own source. Before the
// table, ignition.platform.id=vmware (virtualbox, file) got no network and then failed for
// the lack of one.
func TestPlatformTable(t *testing.T) {
	for _, pl := range platform.All() {
		t.Run(pl.ID, func(t *testing.T) {
			c, err := ParseCmdline(bootargs.IgnitionPlatform + "=" + pl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if why := networkReason(c); (why != "") != pl.NeedsNetwork() {
				t.Errorf("networkReason = %q, want a reason: %v", why, pl.NeedsNetwork())
			}
			fwcfg := pl.Source == platform.FwCfg
			got, err := planIgnition(context.Background(), c, sysWith(t, fwcfg, fwcfg), &fakeSources{})
			if pl.NeedsNetwork() {
				if !errors.Is(err, ErrNoNetwork) {
					t.Errorf("planIgnition without a network = %+v, %v; want ErrNoNetwork", got, err)
				}
				got, err = planIgnition(context.Background(), c, sysWith(t, false, false), &fakeSources{net: true})
			}
			if err != nil {
				t.Fatalf("planIgnition: %v", err)
			}
			if want := (ignitionPlan{Platform: pl.ID, Source: pl.Config}); !cmp.Equal(got, want) {
				t.Errorf("planIgnition = %+v, want %+v", got, want)
			}
		})
	}
	t.Run("unknown platform", func(t *testing.T) {
		c, _ := ParseCmdline(bootargs.IgnitionPlatform + "=some-new-cloud")
		if networkReason(c) == "" {
			t.Error("no network for a platform kiln does not know: its provider likely reads a metadata service")
		}
	})
}
