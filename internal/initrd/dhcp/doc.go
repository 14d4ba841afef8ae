// Package dhcp is kiln-init's DHCPv4 client (RFC 2131, options RFC 2132), like u-root's
// pkg/dhclient: Get runs DISCOVER, OFFER, REQUEST, ACK over an AF_PACKET socket bound to one
// interface, which needs no address for that, and returns the Lease: address and prefix,
// router, DNS servers, search domain, lease time. Configuring the interface is the caller's
// (see package netlink). Standard library and golang.org/x/sys only.
package dhcp
