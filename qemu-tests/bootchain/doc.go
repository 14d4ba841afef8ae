// Package bootchain holds the VM tests of the boot chain: a built image boots through OVMF,
// systemd-boot and kiln-init, applies its Ignition config on the first boot only (from QEMU's
// fw_cfg or a config drive), keeps /etc and /var across boots on a read-only root, and stops
// with a readable error on an invalid config.
//
// Its VMs run at harness.NiceBackground: make test runs this package beside the cluster
// tests, whose control planes must win the host's cores (their deadlines are tighter).
package bootchain
