// Package vmcluster forms a kiln cluster out of QEMU VMs on this machine: a cluster directory,
// one Ignition config per node (the control plane's by fw_cfg, the worker's on a config drive),
// a control-plane VM and a worker VM on an Ethernet hub of 127.0.0.1 datagram links (further
// nodes join it with Plan.Link), and the control plane's API port forwarded to 127.0.0.1. The
// cluster tests, the delivery tests and "make demo" use it.
//
// The VMs' cluster network is 192.168.100.0/24 and lives only on the hub between them; the
// control plane's second NIC is QEMU user networking with restrict=on, there only for the API
// port forward. Nothing a guest sends can leave this machine.
package vmcluster
