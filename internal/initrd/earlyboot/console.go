package earlyboot

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kilnproject/kiln/internal/contract/console"
)

// consoleOut prints kiln-init's lines to the system console and, once /run is mounted, to a log file.
type consoleOut struct {
	mu    sync.Mutex
	out   io.Writer // the console
	log   io.Writer // RunLog, or nil
	start time.Time
	now   func() time.Time
}

func newConsole(out io.Writer, start time.Time) *consoleOut {
	return &consoleOut{out: out, start: start, now: time.Now}
}

// elapsed is the time since kiln-init started, in seconds with two decimals.
func (c *consoleOut) elapsed() string {
	return fmt.Sprintf("%.2f", c.now().Sub(c.start).Seconds())
}

// Printf prints one line: console.Prefix, the message and the time since kiln-init started.
func (c *consoleOut) Printf(format string, args ...any) {
	c.Mark(console.Prefix, format, args...)
}

// Mark prints one line that starts with marker, one of the markers of package console (which
// include console.Prefix), followed by the message and the time since kiln-init started.
func (c *consoleOut) Mark(marker, format string, args ...any) {
	c.line(marker + fmt.Sprintf(format+" (+%ss)", append(args, c.elapsed())...))
}

// Bare prints one line with console.Prefix and without the time.
func (c *consoleOut) Bare(format string, args ...any) {
	c.MarkBare(console.Prefix, format, args...)
}

// MarkBare prints one line that starts with marker, without the time.
func (c *consoleOut) MarkBare(marker, format string, args ...any) {
	c.line(marker + fmt.Sprintf(format, args...))
}

// Raw prints a line as it is.
func (c *consoleOut) Raw(s string) {
	c.line(s)
}

func (c *consoleOut) line(s string) {
	s = strings.TrimRight(s, "\n") + "\n"
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = io.WriteString(c.out, s)
	if c.log != nil {
		_, _ = io.WriteString(c.log, s)
	}
}

// setLog makes c copy every later line to w.
func (c *consoleOut) setLog(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = w
}
