package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/platform"
)

var (
	// ErrNoNetwork marks an Ignition config source that needs a network kiln-init has not brought up.
	ErrNoNetwork = errors.New("no network in the initramfs")
	// ErrIgnition marks a failed Ignition run; the boot stops.
	ErrIgnition = errors.New("Ignition failed") //nolint:staticcheck // a name
	// ErrUnsupported marks an Ignition config asking for what kiln does not do.
	ErrUnsupported = errors.New("not supported")
)

// fwCfgConfig is the QEMU fw_cfg blob of Ignition's qemu platform, relative to /sys.
const fwCfgConfig = "firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw"

// labelledFile is a file on a filesystem found by its label.
type labelledFile struct{ Label, Path string }

// configDrives are the config drives kiln-init reads, in order, with the file holding the user
// data: OpenStack's config drive and cloud-init's NoCloud volume, labels as Ignition spells them.
var configDrives = []labelledFile{
	{"config-2", "openstack/latest/user_data"},
	{"CONFIG-2", "openstack/latest/user_data"},
	{"cidata", "user-data"},
	{"CIDATA", "user-data"},
}

// configSources is what planIgnition asks the machine; tests fake it.
type configSources interface {
	// networkUp reports whether some interface other than loopback has an address.
	networkUp() bool
	// readLabelled reads the file of the first of files whose filesystem exists (waiting for
	// it until ctx ends when wait is set). found is false when no such filesystem exists; data
	// is nil when it exists without the file. where describes the device for the console.
	readLabelled(ctx context.Context, files []labelledFile, wait bool) (data []byte, where string, found bool, err error)
}

// ignitionPlan says whether and how to run Ignition.
type ignitionPlan struct {
	Source     string // where the config comes from, for the console; "" when there is none
	Platform   string // Ignition's --platform
	UserConfig []byte // a config kiln-init read itself, handed over as Ignition's system user.ign
}

// detectPlatform picks Ignition's platform: ignition.platform.id when given; qemu when the
// machine has QEMU's fw_cfg (the qemu platform reads opt/com.coreos/config from it); else
// metal, whose provider has no config of its own.
func detectPlatform(c Cmdline, sys string) string {
	switch {
	case c.IgnitionPlatform != "":
		return c.IgnitionPlatform
	case exists(filepath.Join(sys, "firmware", "qemu_fw_cfg")):
		return platform.QEMU
	}
	return platform.Metal
}

// planIgnition finds the config source, in Ignition's own order: ignition.config.url (Ignition's
// cmdline provider, first whatever the platform), ignition.config.device and .path (which
// kiln-init reads itself), QEMU fw_cfg, a config drive (read by kiln-init, since Ignition's
// config-drive providers need udev and mount(8)), and last the metadata service of the platform
// named by ignition.platform.id. Sources that need the network fail with ErrNoNetwork when no
// interface has an address: kiln-init brings the network up (networkUp) before, for a
// remote ignition.config.url and for platforms with a metadata service.
func planIgnition(ctx context.Context, c Cmdline, sys string, src configSources) (ignitionPlan, error) {
	p := ignitionPlan{Platform: detectPlatform(c, sys)}
	switch {
	case c.IgnitionURL != "":
		u, err := url.Parse(c.IgnitionURL)
		if err != nil {
			return p, fmt.Errorf("%w: %s: %v", ErrInvalidCmdline, bootargs.IgnitionURL, err)
		}
		switch u.Scheme {
		case "data":
		case "http", "https", "tftp", "s3", "gs", "arn": // networkSchemes
			if !src.networkUp() {
				return p, fmt.Errorf("%w: %s=%s needs the network, and no interface has an address (%s=off?)",
					ErrNoNetwork, bootargs.IgnitionURL, c.IgnitionURL, bootargs.IP)
			}
		default:
			return p, fmt.Errorf("%w: %s: unsupported URL scheme %q", ErrInvalidCmdline, bootargs.IgnitionURL, u.Scheme)
		}
		p.Source = bootargs.IgnitionURL + " (" + u.Scheme + ")"
		return p, nil

	case c.IgnitionDevice != "" || c.IgnitionPath != "":
		if c.IgnitionDevice == "" || c.IgnitionPath == "" {
			return p, fmt.Errorf("%w: %s and %s go together", ErrInvalidCmdline, bootargs.IgnitionDevice, bootargs.IgnitionPath)
		}
		data, where, _, err := src.readLabelled(ctx, []labelledFile{{c.IgnitionDevice, c.IgnitionPath}}, true)
		if err != nil {
			return p, fmt.Errorf("%s=%s: %w", bootargs.IgnitionDevice, c.IgnitionDevice, err)
		}
		if data == nil {
			return p, fmt.Errorf("%s=%s: %w: %s has no %s", bootargs.IgnitionDevice, c.IgnitionDevice, os.ErrNotExist, where, c.IgnitionPath)
		}
		p.Source, p.UserConfig = fmt.Sprintf("%s (%s)", where, c.IgnitionPath), data
		return p, nil

	case lookupPlatform(p.Platform).Source == platform.FwCfg && exists(filepath.Join(sys, fwCfgConfig)):
		p.Source = lookupPlatform(p.Platform).Config
		return p, nil
	}

	data, where, found, err := src.readLabelled(ctx, configDrives, false)
	if err != nil {
		return p, fmt.Errorf("config drive: %w", err)
	}
	if found && data != nil {
		p.Source, p.UserConfig = "config drive "+where, data
		return p, nil
	}

	// The platform's own provider, as the platform table says: a metadata service needs the
	// network (networkReason brought it up); a hypervisor channel or a local file does not.
	switch pl := lookupPlatform(p.Platform); pl.Source {
	case platform.Metadata:
		if !src.networkUp() {
			return p, fmt.Errorf("%w: %s=%s reads its config from the platform's metadata service over the network, and no interface has an address (%s=off?)",
				ErrNoNetwork, bootargs.IgnitionPlatform, p.Platform, bootargs.IP)
		}
		p.Source = pl.Config
	case platform.Hypervisor, platform.LocalFile:
		p.Source = pl.Config
	}
	return p, nil
}

// lookupPlatform is the row of the platform table for id; an unknown id is a platform with a
// metadata service.
func lookupPlatform(id string) platform.Platform {
	p, _ := platform.Lookup(id)
	return p
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
