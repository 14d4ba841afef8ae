package earlyboot

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnproject/kiln/internal/initrd/dhcp"
)

func TestParseIP(t *testing.T) {
	for in, want := range map[string]netSpec{
		"dhcp":      {},
		"on":        {},
		"any":       {},
		"off":       {Off: true},
		"none":      {Off: true},
		"eth1:dhcp": {Iface: "eth1"},
	} {
		got, err := parseIP(in)
		if err != nil || got != want {
			t.Errorf("parseIP(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "dhcp6", "auto6", "eth0:off", ":dhcp", "10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"} {
		if _, err := parseIP(in); err == nil {
			t.Errorf("parseIP(%q) succeeded", in)
		}
	}
}

func TestPhysicalInterfaces(t *testing.T) {
	sys := t.TempDir()
	for name, dev := range map[string]bool{"lo": false, "eth1": true, "eth0": true, "br0": false, "ens3": true} {
		dir := filepath.Join(sys, "class", "net", name)
		writeFile(t, filepath.Join(dir, "carrier"), "1\n")
		if dev {
			if err := os.Symlink("../../../devices/pci0000:00/virtio0", filepath.Join(dir, "device")); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(sys, "devices", "pci0000:00", "virtio0"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := physicalInterfaces(sys, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ens3", "eth0", "eth1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, _ := physicalInterfaces(sys, "eth1"); !cmp.Equal(got, []string{"eth1"}) {
		t.Errorf("only eth1: %v", got)
	}
	if got, _ := physicalInterfaces(sys, "br0"); len(got) != 0 {
		t.Errorf("a bridge counted as physical: %v", got)
	}
	writeFile(t, filepath.Join(sys, "class", "net", "eth1", "carrier"), "0\n")
	if !hasCarrier(sys, "eth0") || hasCarrier(sys, "eth1") || hasCarrier(sys, "eth9") {
		t.Error("hasCarrier")
	}
}

func TestWriteResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "etc", "resolv.conf")
	if err := writeResolvConf(p, []netip.Addr{netip.MustParseAddr("10.0.2.3"), netip.MustParseAddr("1.1.1.1")}, "cluster.example"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "# written by kiln-init from DHCP\nsearch cluster.example\nnameserver 10.0.2.3\nnameserver 1.1.1.1\n"
	if string(data) != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", data, want)
	}
}

func TestCollectLeasesGivesUpAfterGrace(t *testing.T) {
	lease := dhcp.Lease{Addr: netip.MustParsePrefix("10.0.2.15/24")}
	get := func(ctx context.Context, name string) (dhcp.Lease, error) {
		if name == "enp0s2" {
			return lease, nil
		}
		<-ctx.Done() // a link without a DHCP server: no offer until given up
		return dhcp.Lease{}, ctx.Err()
	}
	start := time.Now()
	got := collectLeases(context.Background(), []string{"enp0s2", "enp0s3"}, get, 50*time.Millisecond)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s: the second interface was not given up after the grace", took)
	}
	if got[0].name != "enp0s2" || got[0].err != nil || got[0].lease.Addr != lease.Addr {
		t.Errorf("first interface: %+v", got[0])
	}
	if got[1].name != "enp0s3" || got[1].err == nil || !strings.Contains(got[1].err.Error(), "given up") {
		t.Errorf("second interface: %+v, want given up", got[1])
	}
}

func TestCollectLeasesWaitsForAllWithoutALease(t *testing.T) {
	fail := func(ctx context.Context, name string) (dhcp.Lease, error) {
		if name == "slow" {
			time.Sleep(100 * time.Millisecond)
		}
		return dhcp.Lease{}, errors.New("no DHCPOFFER")
	}
	got := collectLeases(context.Background(), []string{"fast", "slow"}, fail, time.Millisecond)
	for _, r := range got {
		if r.err == nil || r.err.Error() != "no DHCPOFFER" {
			t.Errorf("%s: %v, want its own error", r.name, r.err)
		}
	}
}
