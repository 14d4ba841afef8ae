// Package fakesystemd is the first-boot agent's service manager (firstboot.Systemd) without
// systemd: each unit is a Go function that starts it (host processes, a server, or nothing),
// and the fake records which units were started, in order. Unit tests of the phases that
// start units (kubelet-start, handoff) use it, and so does package hostcontrolplane, whose
// kubelet.service runs kiln's static pods as host processes.
package fakesystemd
