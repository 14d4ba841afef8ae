package ignition

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

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

// LabelledFile is a file on a filesystem found by its label.
type LabelledFile struct{ Label, Path string }

// configDrives are the config drives kiln-init reads, in order, with the file holding the user
// data: OpenStack's config drive and cloud-init's NoCloud volume, labels as Ignition spells them.
var configDrives = []LabelledFile{
	{"config-2", "openstack/latest/user_data"},
	{"CONFIG-2", "openstack/latest/user_data"},
	{"cidata", "user-data"},
	{"CIDATA", "user-data"},
}

// Sources is what MakePlan asks the machine; tests fake it.
type Sources interface {
	// NetworkUp reports whether some interface other than loopback has an address.
	NetworkUp() bool
	// ReadLabelled reads the file of the first of files whose filesystem exists (waiting for
	// it until ctx ends when wait is set). found is false when no such filesystem exists; data
	// is nil when it exists without the file. where describes the device for the console.
	ReadLabelled(ctx context.Context, files []LabelledFile, wait bool) (data []byte, where string, found bool, err error)
}

// Plan says whether and how to run Ignition.
type Plan struct {
	Source     string // where the config comes from, for the console; "" when there is none
	Platform   string // Ignition's --platform
	UserConfig []byte // a config kiln-init read itself, handed over as Ignition's system user.ign
}

// Request is the config source the kernel command line names, in Ignition's parameters.
type Request struct {
	URL      string // ignition.config.url
	Device   string // ignition.config.device: a filesystem label
	Path     string // ignition.config.path: the config's path on that filesystem
	Platform string // ignition.platform.id
}

// DetectPlatform picks Ignition's platform: ignition.platform.id when given; qemu when the
// machine has QEMU's fw_cfg (the qemu platform reads opt/com.coreos/config from it); else
// metal, whose provider has no config of its own.
func DetectPlatform(r Request, sys string) string {
	switch {
	case r.Platform != "":
		return r.Platform
	case exists(filepath.Join(sys, "firmware", "qemu_fw_cfg")):
		return platform.QEMU
	}
	return platform.Metal
}

// MakePlan finds the config source, in Ignition's own order: ignition.config.url (Ignition's
// cmdline provider, first whatever the platform), ignition.config.device and .path (which
// kiln-init reads itself), QEMU fw_cfg, a config drive (read by kiln-init, since Ignition's
// config-drive providers need udev and mount(8)), and last the metadata service of the platform
// named by ignition.platform.id. Sources that need the network fail with ErrNoNetwork when no
// interface has an address: kiln-init brings the network up before (see NetworkReason), for a
// remote ignition.config.url and for platforms with a metadata service.
func MakePlan(ctx context.Context, r Request, sys string, src Sources) (Plan, error) {
	p := Plan{Platform: DetectPlatform(r, sys)}
	switch {
	case r.URL != "":
		u, err := url.Parse(r.URL)
		if err != nil {
			return p, fmt.Errorf("%w: %s: %v", bootargs.ErrInvalid, bootargs.IgnitionURL, err)
		}
		switch u.Scheme {
		case "data":
		case "http", "https", "tftp", "s3", "gs", "arn": // networkSchemes
			if !src.NetworkUp() {
				return p, fmt.Errorf("%w: %s=%s needs the network, and no interface has an address (%s=off?)",
					ErrNoNetwork, bootargs.IgnitionURL, r.URL, bootargs.IP)
			}
		default:
			return p, fmt.Errorf("%w: %s: unsupported URL scheme %q", bootargs.ErrInvalid, bootargs.IgnitionURL, u.Scheme)
		}
		p.Source = bootargs.IgnitionURL + " (" + u.Scheme + ")"
		return p, nil

	case r.Device != "" || r.Path != "":
		if r.Device == "" || r.Path == "" {
			return p, fmt.Errorf("%w: %s and %s go together", bootargs.ErrInvalid, bootargs.IgnitionDevice, bootargs.IgnitionPath)
		}
		data, where, _, err := src.ReadLabelled(ctx, []LabelledFile{{r.Device, r.Path}}, true)
		if err != nil {
			return p, fmt.Errorf("%s=%s: %w", bootargs.IgnitionDevice, r.Device, err)
		}
		if data == nil {
			return p, fmt.Errorf("%s=%s: %w: %s has no %s", bootargs.IgnitionDevice, r.Device, os.ErrNotExist, where, r.Path)
		}
		p.Source, p.UserConfig = fmt.Sprintf("%s (%s)", where, r.Path), data
		return p, nil

	case lookupPlatform(p.Platform).Source == platform.FwCfg && exists(filepath.Join(sys, fwCfgConfig)):
		p.Source = lookupPlatform(p.Platform).Config
		return p, nil
	}

	data, where, found, err := src.ReadLabelled(ctx, configDrives, false)
	if err != nil {
		return p, fmt.Errorf("config drive: %w", err)
	}
	if found && data != nil {
		p.Source, p.UserConfig = "config drive "+where, data
		return p, nil
	}

	// The platform's own provider, as the platform table says: a metadata service needs the
	// network (kiln-init brought it up, see NetworkReason); a hypervisor channel or a local file does not.
	switch pl := lookupPlatform(p.Platform); pl.Source {
	case platform.Metadata:
		if !src.NetworkUp() {
			return p, fmt.Errorf("%w: %s=%s reads its config from the platform's metadata service over the network, and no interface has an address (%s=off?)",
				ErrNoNetwork, bootargs.IgnitionPlatform, p.Platform, bootargs.IP)
		}
		p.Source = pl.Config
	case platform.Hypervisor, platform.LocalFile:
		p.Source = pl.Config
	}
	return p, nil
}

// networkSchemes are the ignition.config.url schemes Ignition fetches over the network.
var networkSchemes = []string{"http", "https", "tftp", "s3", "gs", "arn"}

// NetworkReason says why the Ignition config source named on the command line needs the
// network, or "" when it does not: an ignition.config.url with a remote scheme, or a platform
// with a metadata service. An unparsable URL needs none here; MakePlan reports it.
func NetworkReason(r Request) string {
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err == nil && slices.Contains(networkSchemes, u.Scheme) {
			return bootargs.IgnitionURL + "=" + r.URL
		}
		return ""
	}
	if p := r.Platform; p != "" && lookupPlatform(p).NeedsNetwork() {
		return bootargs.IgnitionPlatform + "=" + p + " (its metadata service)"
	}
	return ""
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
