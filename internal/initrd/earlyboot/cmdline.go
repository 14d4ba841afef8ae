package earlyboot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/initrd/ignition"
)

// ErrInvalidCmdline marks a kernel command line parameter of kiln-init with a value it cannot use.
var ErrInvalidCmdline = bootargs.ErrInvalid

// DefaultInit is the program kiln-init hands over to in the root filesystem.
const DefaultInit = "/sbin/init"

// Cmdline holds what kiln-init takes from the kernel command line.
type Cmdline struct {
	IgnitionURL      string // ignition.config.url
	IgnitionDevice   string // ignition.config.device: a filesystem label
	IgnitionPath     string // ignition.config.path: the config's path on that filesystem
	IgnitionPlatform string // ignition.platform.id
	Debug            bool   // kiln.debug: show Ignition's debug lines
	Poweroff         bool   // kiln.poweroff_on_failure: power off instead of halting on failure
	RootTimeout      time.Duration
	RootURL          string  // kiln.root.url
	RootSHA256       string  // kiln.root.sha256
	Init             string  // init=, DefaultInit when absent
	Net              netSpec // ip=
	NoGateway        bool    // kiln.net.gateway=off
	// Words is every parameter as given (quotes removed), for Ignition's filtered copy.
	Words []string
}

// ParseCmdline parses a kernel command line (the content of /proc/cmdline). Parameters are
// separated by white space; double quotes group white space into a value, as the kernel does.
// Everything after "--" belongs to init and is ignored; so are parameters kiln-init does not know.
// A later parameter overrides an earlier one. Flags are on when given bare or as
// =1/y/yes/true/on and off as =0/n/no/false/off.
func ParseCmdline(s string) (Cmdline, error) {
	c := Cmdline{RootTimeout: DefaultRootTimeout, Init: DefaultInit}
	for _, w := range splitCmdline(s) {
		if w == "--" {
			break
		}
		c.Words = append(c.Words, w)
		key, val, hasVal := strings.Cut(w, "=")
		var err error
		switch key {
		case bootargs.IgnitionURL:
			c.IgnitionURL = val
		case bootargs.IgnitionDevice:
			c.IgnitionDevice = val
		case bootargs.IgnitionPath:
			c.IgnitionPath = val
		case bootargs.IgnitionPlatform:
			c.IgnitionPlatform = val
		case bootargs.Debug:
			c.Debug, err = parseFlag(val, hasVal)
		case bootargs.Poweroff:
			c.Poweroff, err = parseFlag(val, hasVal)
		case bootargs.RootURL:
			c.RootURL = val
		case bootargs.RootSHA256:
			c.RootSHA256 = val
		case bootargs.RootTimeout:
			var n int
			n, err = strconv.Atoi(val)
			if err == nil && (n <= 0 || n > 3600) {
				err = errors.New("want 1 to 3600 seconds")
			}
			c.RootTimeout = time.Duration(n) * time.Second
		case bootargs.IP:
			c.Net, err = parseIP(val)
		case bootargs.NetGateway:
			var gw bool
			gw, err = parseFlag(val, hasVal)
			c.NoGateway = !gw
		case bootargs.Init:
			if !strings.HasPrefix(val, "/") {
				err = errors.New("want an absolute path")
			}
			c.Init = val
		}
		if err != nil {
			return Cmdline{}, fmt.Errorf("%w: %s: %v", ErrInvalidCmdline, w, err)
		}
	}
	return c, nil
}

// parseFlag parses the value of an on/off parameter.
func parseFlag(val string, hasVal bool) (bool, error) {
	if !hasVal {
		return true, nil
	}
	switch strings.ToLower(val) {
	case "1", "y", "yes", "true", "on":
		return true, nil
	case "0", "n", "no", "false", "off":
		return false, nil
	}
	return false, errors.New("want on or off")
}

// splitCmdline splits s at white space outside double quotes and removes the quotes.
func splitCmdline(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// Has reports whether the command line has the parameter key, with or without a value.
func (c Cmdline) Has(key string) bool {
	for _, w := range c.Words {
		if k, _, _ := strings.Cut(w, "="); k == key {
			return true
		}
	}
	return false
}

// ignitionRequest is the Ignition config source the command line names.
func (c Cmdline) ignitionRequest() ignition.Request {
	return ignition.Request{URL: c.IgnitionURL, Device: c.IgnitionDevice, Path: c.IgnitionPath, Platform: c.IgnitionPlatform}
}

// ignitionCmdline is the command line Ignition sees: without ignition.config.device and
// ignition.config.path, which kiln-init resolves itself (Ignition would need udev's
// /dev/disk/by-label and mount(8), neither of which the initramfs has).
func (c Cmdline) ignitionCmdline() string {
	var kept []string
	for _, w := range c.Words {
		key, _, _ := strings.Cut(w, "=")
		if key == bootargs.IgnitionDevice || key == bootargs.IgnitionPath {
			continue
		}
		kept = append(kept, w)
	}
	return strings.Join(kept, " ") + "\n"
}
