package earlyboot

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Console lines other programs (the QEMU harness, people) look for. Every line kiln-init
// prints starts with Prefix; the others are substrings of a line.
const (
	Prefix          = "kiln-init: "
	MarkerStarted   = "kiln-init: started"
	MarkerNoConfig  = "kiln-init: no Ignition config found, booting without one"
	MarkerIgnition  = "kiln-init: Ignition applied the config"
	MarkerSkipped   = "kiln-init: Ignition already ran on first boot"
	MarkerSwitching = "kiln-init: switching to systemd"
	MarkerFatal     = "kiln-init: FATAL: "
	// MarkerIgnitionFailed is part of the fatal line when Ignition failed.
	MarkerIgnitionFailed = "Ignition failed: "
	// IgnitionLinePrefix starts each line of Ignition's own output kiln-init passes on.
	IgnitionLinePrefix = "ignition: "
)

// console prints kiln-init's lines to the system console and, once /run is mounted, to a log file.
type console struct {
	mu    sync.Mutex
	out   io.Writer // the console
	log   io.Writer // RunLog, or nil
	start time.Time
	now   func() time.Time
}

func newConsole(out io.Writer, start time.Time) *console {
	return &console{out: out, start: start, now: time.Now}
}

// elapsed is the time since kiln-init started, in seconds with two decimals.
func (c *console) elapsed() string {
	return fmt.Sprintf("%.2f", c.now().Sub(c.start).Seconds())
}

// Printf prints one line: the Prefix, the message and the time since kiln-init started.
func (c *console) Printf(format string, args ...any) {
	c.line(fmt.Sprintf(Prefix+format+" (+%ss)", append(args, c.elapsed())...))
}

// Bare prints one line with the Prefix and without the time.
func (c *console) Bare(format string, args ...any) {
	c.line(fmt.Sprintf(Prefix+format, args...))
}

// Raw prints a line as it is.
func (c *console) Raw(s string) {
	c.line(s)
}

func (c *console) line(s string) {
	s = strings.TrimRight(s, "\n") + "\n"
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.out, s)
	if c.log != nil {
		_, _ = io.WriteString(c.log, s)
	}
}

// setLog makes c copy every later line to w.
func (c *console) setLog(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = w
}
