// Package hostcontrolplanetest starts a host-process control plane (package hostcontrolplane)
// for a test: it skips the test when the pinned binaries are not configured (unless
// KILN_REQUIRE_INTEGRATION=1), logs the start-up to the test, and stops every process when the
// test ends, showing the components' log tails if it failed.
package hostcontrolplanetest
