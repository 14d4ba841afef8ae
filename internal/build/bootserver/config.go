package bootserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/common/strictyaml"
)

// APIVersion and Kind of a serve config.
const (
	APIVersion = "kiln.dev/v1alpha1"
	Kind       = "ServeConfig"
)

// Config is the file "kiln serve --config" reads.
type Config struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Listen is the address to serve on, host:port.
	Listen string `json:"listen"`
	// URL is how machines reach this server (http://host:port), written into iPXE scripts;
	// default http://LISTEN.
	URL string `json:"url,omitempty"`
	// TLS, when set, serves HTTPS with this certificate and key.
	TLS *TLS `json:"tls,omitempty"`
	// Cluster is the cluster directory Ignition configs are rendered from.
	Cluster string `json:"cluster"`
	// Bundles are PXE bundle directories by name.
	Bundles map[string]string `json:"bundles"`
	// Groups select machines, most specific first.
	Groups []Group `json:"groups"`
}

// TLS names a certificate and its key (PEM files).
type TLS struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Group is what a set of machines boots.
type Group struct {
	Name     string   `json:"name"`
	Selector Selector `json:"selector,omitempty"`
	Bundle   string   `json:"bundle"`
	Role     string   `json:"role"`
	// NodeName is the Kubernetes node name, with {mac} (lowercase, without separators) and
	// {group} replaced; default "{group}-{mac}".
	NodeName string `json:"nodeName,omitempty"`
	// Butane is a Butane file (variant fcos) merged into the group's Ignition configs, as
	// "kiln ignition --butane" does: a static address, a resolv.conf, the hostname.
	Butane string `json:"butane,omitempty"`

	butane []byte // Butane's content, read by LoadConfig
}

// Selector matches machines: every field given must equal what the machine sends.
type Selector struct {
	MAC    string            `json:"mac,omitempty"`
	UUID   string            `json:"uuid,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ErrConfig marks an invalid serve config.
var ErrConfig = errors.New("invalid serve config")

var groupName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// LoadConfig reads and checks a serve config; relative paths are relative to its directory.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := strictyaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrConfig, err)
	}
	base := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.Cluster = rel(c.Cluster)
	for name, dir := range c.Bundles {
		c.Bundles[name] = rel(dir)
	}
	if c.TLS != nil {
		c.TLS.Cert, c.TLS.Key = rel(c.TLS.Cert), rel(c.TLS.Key)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range c.Groups {
		g := &c.Groups[i]
		if g.Butane == "" {
			continue
		}
		if g.butane, err = os.ReadFile(rel(g.Butane)); err != nil {
			return nil, fmt.Errorf("%s: %w: groups[%d].butane: %v", path, ErrConfig, i, err)
		}
	}
	return &c, nil
}

// Validate checks every field and names the first wrong one.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if c.APIVersion != APIVersion || c.Kind != Kind {
		return bad("apiVersion/kind", "want %s %s, got %q %q", APIVersion, Kind, c.APIVersion, c.Kind)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "want host:port: %v", err)
	}
	if c.URL != "" && !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return bad("url", "want http://host[:port] or https://…, got %q", c.URL)
	}
	if c.TLS != nil && (c.TLS.Cert == "" || c.TLS.Key == "") {
		return bad("tls", "needs both cert and key")
	}
	if c.Cluster == "" {
		return bad("cluster", "required: the cluster directory made by kiln cluster init")
	}
	if len(c.Bundles) == 0 {
		return bad("bundles", "required: at least one PXE bundle directory (kiln build --format pxe)")
	}
	for name, dir := range c.Bundles {
		if !groupName.MatchString(name) {
			return bad("bundles."+name, "a name of lowercase letters, digits and '-'")
		}
		if _, err := os.Stat(filepath.Join(dir, "boot.ipxe")); err != nil {
			return bad("bundles."+name, "%s is not a PXE bundle: %v", dir, err)
		}
	}
	if len(c.Groups) == 0 {
		return bad("groups", "required: at least one group")
	}
	seen := map[string]bool{}
	for i, g := range c.Groups {
		field := fmt.Sprintf("groups[%d]", i)
		if !groupName.MatchString(g.Name) || seen[g.Name] {
			return bad(field+".name", "%q: want a unique name of lowercase letters, digits and '-'", g.Name)
		}
		seen[g.Name] = true
		if _, ok := c.Bundles[g.Bundle]; !ok {
			return bad(field+".bundle", "%q is not in bundles", g.Bundle)
		}
		if _, err := nodeconfig.ParseRole(g.Role); err != nil {
			return bad(field+".role", "%v", err)
		}
		if g.Selector.MAC != "" {
			if _, err := normalizeMAC(g.Selector.MAC); err != nil {
				return bad(field+".selector.mac", "%v", err)
			}
		}
	}
	return nil
}

// normalizeMAC accepts aa:bb:…, aa-bb-… and AABB… forms and returns aa:bb:cc:dd:ee:ff.
func normalizeMAC(s string) (string, error) {
	hex := strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.ToLower(s))
	if len(hex) != 12 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%q is not a MAC address", s)
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String(), nil
}
