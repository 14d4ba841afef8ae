package vmcluster

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// NodeButane is a Butane snippet that gives the NIC with mac the static address ip on the
// cluster network, names the host and writes a resolv.conf.
func NodeButane(name, mac, ip string) []byte {
	return []byte(fmt.Sprintf(`variant: fcos
version: 1.7.0
storage:
  files:
  - path: /etc/systemd/network/10-cluster.network
    mode: 0644
    contents:
      inline: |
        [Match]
        MACAddress=%s
        [Network]
        Address=%s/%d
        LinkLocalAddressing=no
        IPv6AcceptRA=no
  - path: /etc/resolv.conf
    mode: 0644
    overwrite: true
    contents:
      inline: |
        nameserver %s
  - path: /etc/hostname
    mode: 0644
    overwrite: true
    contents:
      inline: %s
`, mac, ip, prefixLen, guestDNS, name))
}

// MergeButane is one Butane snippet holding both: the lists under storage and systemd
// (files, directories, links, units) are joined, base's entries first. Both must have the same
// variant and version; any other top-level section of extra is an error, not silently dropped.
func MergeButane(base, extra []byte) ([]byte, error) {
	var b, e map[string]any
	if err := yaml.Unmarshal(base, &b); err != nil {
		return nil, fmt.Errorf("butane snippet: %w", err)
	}
	if err := yaml.Unmarshal(extra, &e); err != nil {
		return nil, fmt.Errorf("extra butane snippet: %w", err)
	}
	for key, v := range e {
		switch key {
		case "variant", "version":
			if b[key] != v {
				return nil, fmt.Errorf("extra butane snippet: %s %v, want %v", key, v, b[key])
			}
		case "storage", "systemd":
			section, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("extra butane snippet: %s is not a mapping", key)
			}
			into, _ := b[key].(map[string]any)
			if into == nil {
				into = map[string]any{}
				b[key] = into
			}
			for list, items := range section {
				more, ok := items.([]any)
				if !ok {
					return nil, fmt.Errorf("extra butane snippet: %s.%s is not a list", key, list)
				}
				have, _ := into[list].([]any)
				into[list] = append(have, more...)
			}
		default:
			return nil, fmt.Errorf("extra butane snippet: section %q cannot be merged", key)
		}
	}
	return yaml.Marshal(b)
}
