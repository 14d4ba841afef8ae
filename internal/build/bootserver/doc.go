// Package bootserver is "kiln serve": an HTTP server that boots machines over the network and
// hands each its own Ignition config, in the spirit of Matchbox.
//
// A Config names PXE bundles (kiln build's NAME-pxe/ directories), a cluster directory, and
// groups. A group selects machines by MAC address, SMBIOS UUID and labels (query parameters the
// machine's iPXE script sends) and gives them a bundle, a role and a node-name pattern. A
// machine gets the most specific group that matches it; one that matches none gets 404 and
// nothing else.
//
//	GET /boot.ipxe?mac=…&uuid=…           the matched group's iPXE script (base-url set)
//	GET /bundle/NAME/FILE                 vmlinuz, initrd.img, root.squashfs, boot.ipxe:
//	                                      Range requests, ETag (the file's sha256)
//	GET /bundle/NAME/ignition?mac=…       the machine's Ignition config, rendered from the
//	                                      cluster directory for the group's role
package bootserver
