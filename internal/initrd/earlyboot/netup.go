package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/internal/initrd/blockdev"
	"github.com/kilnproject/kiln/internal/initrd/dhcp"
	"github.com/kilnproject/kiln/internal/initrd/netlink"
)

// Bringing up the network for Ignition. When the config source needs it (ignition.NetworkReason: a
// remote ignition.config.url, or a platform that reads a metadata service),
// kiln-init sets every physical interface up (those with a device in sysfs: not lo, no
// bridges or tunnels), or only the one ip=IFACE:dhcp names, waits for carrier
// (DefaultCarrierTimeout), and runs a DHCPv4 client on each that has it (DefaultDHCPTimeout,
// in parallel; once one has a lease, the others get dhcpGrace more). Each lease becomes the
// interface's address and, unless kiln.net.gateway=off, the default route; the DNS servers go
// to the initramfs's /etc/resolv.conf, where Ignition's resolver reads them. At least one
// lease is needed; otherwise the boot stops.
//
// Before switch_root kiln-init sets every interface it raised down again (networkDown): the
// kernel refuses to rename an interface that is up, and udev in the booted system renames
// eth0 to its predictable name (enp0s2, …); an interface udev failed to rename stays
// "pending" for systemd-networkd, and network-online.target waits for it until it times out.
// The booted system's networkd then configures the interfaces itself; its /etc/resolv.conf
// is the image's own.

// Timeouts of bringing up the network.
const (
	DefaultCarrierTimeout = 10 * time.Second
	DefaultDHCPTimeout    = dhcp.DefaultTimeout
	// carrierGrace is how long kiln-init waits for the other interfaces once one has carrier.
	carrierGrace = 2 * time.Second
	// dhcpGrace is how long the other interfaces may still take once one has its lease: a
	// second NIC on a network without a DHCP server (a cluster link with static addresses)
	// costs this, not DefaultDHCPTimeout.
	dhcpGrace = 5 * time.Second
)

// ErrNetwork marks a failure to bring up the network; the boot stops.
var ErrNetwork = errors.New("bring up the network")

// resolvConf is the initramfs's resolver configuration.
var resolvConf = "/etc/resolv.conf"

// netSpec is the ip= parameter.
type netSpec struct {
	Off   bool
	Iface string // "": every physical interface
}

// parseIP parses the value of ip=: dracut's dhcp forms, and off.
func parseIP(v string) (netSpec, error) {
	iface, method, hasIface := strings.Cut(v, ":")
	if !hasIface {
		iface, method = "", v
	}
	switch method {
	case "dhcp", "on", "any":
	case "off", "none":
		if !hasIface {
			return netSpec{Off: true}, nil
		}
		fallthrough
	default:
		return netSpec{}, fmt.Errorf("kiln-init supports %[1]s=dhcp, %[1]s=IFACE:dhcp and %[1]s=off", bootargs.IP)
	}
	if hasIface && (iface == "" || strings.ContainsAny(iface, "/ ")) {
		return netSpec{}, fmt.Errorf("interface name %q", iface)
	}
	return netSpec{Iface: iface}, nil
}

// physicalInterfaces are the interfaces of sys/class/net backed by a device, sorted by name;
// only the one named when only is set.
func physicalInterfaces(sys, only string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(sys, "class", "net"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if name == "lo" || (only != "" && name != only) || !exists(filepath.Join(sys, "class", "net", name, "device")) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// hasCarrier reports whether the interface has a link (sysfs reads an error while it is down).
func hasCarrier(sys, name string) bool {
	data, err := os.ReadFile(filepath.Join(sys, "class", "net", name, "carrier"))
	return err == nil && strings.TrimSpace(string(data)) == "1"
}

// waitCarrier sets the interfaces up and waits until all have carrier, or one has it and
// carrierGrace passed, or the timeout. It returns those with carrier, and those without.
func (b *boot) waitCarrier(ctx context.Context, spec netSpec) (up, down []string, err error) {
	var names []string
	var firstUp time.Time
	err = poll.Until(ctx, poll.Every(blockdev.PollInterval).Within(DefaultCarrierTimeout), func(context.Context) error {
		var err error
		names, err = physicalInterfaces(b.sys, spec.Iface)
		if err != nil {
			return poll.Stop(err)
		}
		up, down = nil, nil
		for _, n := range names {
			if !slices.Contains(b.raised, n) {
				if err := netlink.SetLinkUp(n); err != nil {
					return poll.Stop(err)
				}
				b.raised = append(b.raised, n)
			}
			if hasCarrier(b.sys, n) {
				up = append(up, n)
			} else {
				down = append(down, n)
			}
		}
		if len(up) > 0 && firstUp.IsZero() {
			firstUp = time.Now()
		}
		if len(up) > 0 && (len(down) == 0 || time.Since(firstUp) > carrierGrace) {
			return nil
		}
		return errNotYet
	})
	switch {
	case err == nil:
		return up, down, nil
	case !errors.Is(err, poll.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		return nil, nil, err
	case len(names) == 0:
		what := "no network interface"
		if spec.Iface != "" {
			what = "no interface " + spec.Iface
		}
		return nil, nil, fmt.Errorf("%s within %s (is its driver among the initramfs's modules?)", what, DefaultCarrierTimeout)
	}
	return nil, nil, fmt.Errorf("no carrier on %s within %s", strings.Join(names, ", "), DefaultCarrierTimeout)
}

// ifaceLease is the outcome of DHCP on one interface.
type ifaceLease struct {
	name  string
	lease dhcp.Lease
	err   error
}

// networkUp brings up the network once per boot, for why (the root over the network, or the
// Ignition config source); see the top of this file. Its errors do not name the step: the
// caller wraps them in ErrNetwork.
func (b *boot) networkUp(ctx context.Context, why string) error {
	if b.netUp {
		return nil
	}
	if err := b.bringUpNetwork(ctx, why); err != nil {
		return err
	}
	b.netUp = true
	return nil
}

func (b *boot) bringUpNetwork(ctx context.Context, why string) error {
	spec := b.cmd.Net
	if spec.Off {
		b.con.Mark(console.InitNetwork, "off (%s=off), although %s needs it", bootargs.IP, why)
		return nil
	}
	up, down, err := b.waitCarrier(ctx, spec)
	if err != nil {
		return err
	}
	for _, n := range down {
		b.con.Mark(console.InitNetwork, "%s has no carrier, skipped", n)
	}
	b.con.Mark(console.InitNetwork, "DHCPv4 on %s for %s", strings.Join(up, ", "), why)
	results := collectLeases(ctx, up, b.dhcpOn, dhcpGrace)
	var failed []string
	var dns []netip.Addr
	var domain string
	for _, r := range results {
		if r.err != nil {
			b.con.Mark(console.InitNetwork, "%s: %v", r.name, r.err)
			failed = append(failed, fmt.Sprintf("%s: %v", r.name, r.err))
			continue
		}
		b.con.Mark(console.InitNetwork, "%s", r.lease.Describe(r.name, b.cmd.NoGateway))
		for _, d := range r.lease.DNS {
			if !slices.Contains(dns, d) {
				dns = append(dns, d)
			}
		}
		if domain == "" {
			domain = r.lease.Domain
		}
	}
	if len(failed) == len(results) {
		return fmt.Errorf("no DHCP lease (%s)", strings.Join(failed, "; "))
	}
	if len(dns) > 0 {
		if err := writeResolvConf(resolvConf, dns, domain); err != nil {
			return err
		}
	}
	return nil
}

// networkDown sets the interfaces networkUp raised down, for udev and networkd in the booted
// system (see the top of this file).
func (b *boot) networkDown() {
	if len(b.raised) == 0 {
		return
	}
	for _, n := range b.raised {
		if err := netlink.SetLinkDown(n); err != nil {
			b.con.Mark(console.InitNetwork, "%v", err) // networkd can still take it over, under its old name
		}
	}
	b.con.Mark(console.InitNetwork, "%s set down for the booted system's udev and networkd", strings.Join(b.raised, ", "))
	b.raised = nil
}

// collectLeases runs dhcp on every interface at once and returns each outcome, in the order of
// names. Once one interface has its lease, the others get grace more before they are given up.
// Its loop is an event loop (a result arrives, or the grace ends), not a poll: it stays as it is.
func collectLeases(ctx context.Context, names []string, get func(context.Context, string) (dhcp.Lease, error), grace time.Duration) []ifaceLease {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]ifaceLease, len(names))
	done := make(chan int, len(names))
	for i, name := range names {
		go func() {
			l, err := get(ctx, name)
			results[i] = ifaceLease{name: name, lease: l, err: err}
			done <- i
		}()
	}
	var graceOver <-chan time.Time
	gaveUp := false
	for pending := len(names); pending > 0; {
		select {
		case i := <-done:
			pending--
			if r := &results[i]; r.err != nil && gaveUp {
				r.err = fmt.Errorf("no lease within %s of the first one, given up", grace)
			} else if r.err == nil && graceOver == nil && !gaveUp {
				graceOver = time.After(grace)
			}
		case <-graceOver:
			cancel() // the rest end with ctx's error
			graceOver, gaveUp = nil, true
		}
	}
	return results
}

// dhcpOn gets a lease on the interface name and configures it.
func (b *boot) dhcpOn(ctx context.Context, name string) (dhcp.Lease, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return dhcp.Lease{}, err
	}
	l, err := dhcp.Get(ctx, ifc)
	if err != nil {
		return dhcp.Lease{}, err
	}
	if err := configureLease(ifc, l, b.cmd.NoGateway); err != nil {
		return dhcp.Lease{}, err
	}
	return l, nil
}

// configureLease gives interface ifc the lease's address and, with a router, the default
// route through it (first a route to the router itself when it lies outside the subnet, as
// with the /32 leases of some clouds). noGateway leaves the default route out.
func configureLease(ifc *net.Interface, l dhcp.Lease, noGateway bool) error {
	if err := netlink.AddAddress(ifc.Index, l.Addr); err != nil {
		return fmt.Errorf("add the address %s to %s: %w", l.Addr, ifc.Name, err)
	}
	if !l.Router.IsValid() || noGateway {
		return nil
	}
	if !l.Addr.Masked().Contains(l.Router) {
		if err := netlink.AddRoute(ifc.Index, netip.PrefixFrom(l.Router, 32), netip.Addr{}); err != nil {
			return fmt.Errorf("add a route to the router %s on %s: %w", l.Router, ifc.Name, err)
		}
	}
	if err := netlink.AddRoute(ifc.Index, netip.PrefixFrom(netip.IPv4Unspecified(), 0), l.Router); err != nil {
		return fmt.Errorf("add the default route via %s on %s: %w", l.Router, ifc.Name, err)
	}
	return nil
}

// writeResolvConf writes a resolv.conf with the name servers and search domain.
func writeResolvConf(path string, dns []netip.Addr, domain string) error {
	var s strings.Builder
	s.WriteString("# written by kiln-init from DHCP\n")
	if domain != "" {
		fmt.Fprintf(&s, "search %s\n", domain)
	}
	for _, d := range dns {
		fmt.Fprintf(&s, "nameserver %s\n", d)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(s.String()), 0o644)
}
