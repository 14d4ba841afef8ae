package bootargs

import "errors"

// ErrInvalid marks a kernel command line parameter with a value kiln-init cannot use.
var ErrInvalid = errors.New("invalid kernel command line")

// Ignition's parameters; kiln-init reads them to find the config source.
const (
	IgnitionURL      = "ignition.config.url"
	IgnitionDevice   = "ignition.config.device" // a filesystem label; kiln-init resolves it
	IgnitionPath     = "ignition.config.path"   // the config's path on that filesystem
	IgnitionPlatform = "ignition.platform.id"
)

// kiln's own parameters.
const (
	Debug       = "kiln.debug"               // show Ignition's debug lines
	Poweroff    = "kiln.poweroff_on_failure" // power off instead of halting on failure
	RootTimeout = "kiln.root_timeout"        // seconds to wait for the root device
	RootURL     = "kiln.root.url"            // PXE: the root squashfs over HTTP, run from RAM
	RootSHA256  = "kiln.root.sha256"         // its sha256, in hex
	NetGateway  = "kiln.net.gateway"         // off leaves the DHCP router out: no default route
)

// Parameters of the kernel, dracut and systemd that kiln-init or the build use.
const (
	Init             = "init"              // the program kiln-init hands over to
	IP               = "ip"                // dracut's ip=: dhcp, IFACE:dhcp or off
	SystemdFirstboot = "systemd.firstboot" // leaves systemd-firstboot to systemd
	// SystemdGPTAutoOff keeps systemd-gpt-auto-generator from mounting kiln's partitions
	// by type: kiln-init has mounted them already. Every kiln boot entry has it.
	SystemdGPTAutoOff = "systemd.gpt_auto=0"
)
