// Package bootchain holds the VM tests of the boot chain: a built image boots through OVMF,
// systemd-boot and kiln-init, applies its Ignition config on the first boot only (from QEMU's
// fw_cfg or a config drive), keeps /etc and /var across boots on a read-only root, and stops
// with a readable error on an invalid config.
//
// Each test holds the host (harness.HoldHost) while its VM runs: make test runs this package
// beside the cluster tests, whose control planes need the host's cores to themselves.
package bootchain
