package console

import "github.com/kilnproject/kiln/internal/contract/bootmedia"

// kiln-init's lines. Every line kiln-init prints starts with Prefix; the markers are the start
// of a line, except where noted.
const (
	Prefix           = "kiln-init: "
	InitStarted      = Prefix + "started"
	InitNoConfig     = Prefix + "no Ignition config found, booting without one"
	InitIgnition     = Prefix + "Ignition applied the config"
	InitSkipped      = Prefix + "Ignition already ran on first boot"
	InitSwitching    = Prefix + "switching to systemd"
	InitFatal        = Prefix + "FATAL: "
	InitNetwork      = Prefix + "network: "                  // one line per interface brought up
	InitGrewVar      = Prefix + "grew " + bootmedia.LabelVar // VAR grew to the enlarged disk
	InitFetchedRoot  = Prefix + "fetched the root squashfs: "
	InitRootVerified = "sha256 verified" // ends the InitFetchedRoot line
	// InitVolatile starts the line of a boot whose /var lives in RAM (the ISO, a root over
	// the network); what it booted from follows.
	InitVolatile = Prefix + "booted from "
	// InitIgnitionFailed is part of the InitFatal line when Ignition failed.
	InitIgnitionFailed = "Ignition failed: "
	// IgnitionLinePrefix starts each line of Ignition's own output kiln-init passes on.
	IgnitionLinePrefix = "ignition: "
)

// The first-boot agent's lines (firstboot/phases.go).
const (
	// FirstbootComplete starts the last line of a successful first boot; the total time follows.
	FirstbootComplete = "[kiln] first boot complete in "
	// FirstbootStopped starts the line of a first boot that failed; the phase follows.
	FirstbootStopped = "[kiln] first boot stopped in phase "
	// FirstbootFailed follows "[phase]" on the line of the phase that failed.
	FirstbootFailed = "] FAILED after "
)
