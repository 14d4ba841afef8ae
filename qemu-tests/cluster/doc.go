// Package cluster holds the VM tests of the first-boot agent: a control-plane VM and a worker
// VM built by kiln form a cluster; a control plane cut off in the middle of init completes it
// on its next boot.
package cluster
