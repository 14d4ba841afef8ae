// Package console names the console lines kiln's boot programs print and the QEMU harness,
// the VM tests and the benchmarks wait for: kiln-init's (Prefix and the Init* markers) and the
// first-boot agent's (the Firstboot* markers). The programs print them from here and the
// tests match them with regexp.QuoteMeta of the same constants. Standard library only.
package console
