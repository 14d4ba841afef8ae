package bootserver

import (
	"net/url"
	"strings"
)

// Machine is what a machine tells about itself in its request's query.
type Machine struct {
	MAC    string // normalized; "" when absent or malformed
	UUID   string // lowercase
	Labels map[string]string
}

// machineFrom reads mac, uuid and every other parameter (a label) from a query.
func machineFrom(q url.Values) Machine {
	m := Machine{Labels: map[string]string{}}
	for key, vals := range q {
		if len(vals) == 0 {
			continue
		}
		switch key {
		case "mac":
			m.MAC, _ = normalizeMAC(vals[0])
		case "uuid":
			m.UUID = strings.ToLower(vals[0])
		default:
			m.Labels[key] = vals[0]
		}
	}
	return m
}

// matches reports whether every criterion of s holds for m.
func (s Selector) matches(m Machine) bool {
	if s.MAC != "" {
		want, _ := normalizeMAC(s.MAC)
		if m.MAC != want {
			return false
		}
	}
	if s.UUID != "" && !strings.EqualFold(s.UUID, m.UUID) {
		return false
	}
	for k, v := range s.Labels {
		if m.Labels[k] != v {
			return false
		}
	}
	return true
}

// specificity counts a selector's criteria: the most specific matching group wins.
func (s Selector) specificity() int {
	n := len(s.Labels)
	if s.MAC != "" {
		n++
	}
	if s.UUID != "" {
		n++
	}
	return n
}

// Match returns the most specific group that selects m (the first in the file among equals),
// or nil.
func (c *Config) Match(m Machine) *Group {
	var best *Group
	for i := range c.Groups {
		g := &c.Groups[i]
		if g.Selector.matches(m) && (best == nil || g.Selector.specificity() > best.Selector.specificity()) {
			best = g
		}
	}
	return best
}

// nodeName fills the group's pattern for m.
func (g *Group) nodeName(m Machine) string {
	pattern := g.NodeName
	if pattern == "" {
		pattern = "{group}-{mac}"
	}
	return strings.NewReplacer("{group}", g.Name, "{mac}", strings.ReplaceAll(m.MAC, ":", "")).Replace(pattern)
}
