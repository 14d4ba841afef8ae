// Package netlink is what kiln-init asks the kernel of its network interfaces, which the
// initramfs has no ip(8) for: setting a link up or down (SIOCSIFFLAGS) and adding addresses and
// routes over rtnetlink (NETLINK_ROUTE). Standard library and golang.org/x/sys only.
package netlink
