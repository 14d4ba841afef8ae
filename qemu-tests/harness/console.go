package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ErrConsoleClosed marks a wait that ended because QEMU closed the serial console: it exited.
var ErrConsoleClosed = errors.New("console closed: qemu exited")

// TailLines is how many console lines errors and failure reports show.
const TailLines = 40

// PromptQuiet is how long a line without a newline must go without a new byte before waits
// match it: then it is a prompt waiting for input, not a line still arriving, and a regexp
// capturing its end ("var-mib=(\d+)") sees all of it.
const PromptQuiet = time.Second

// Line is one line of the serial console.
type Line struct {
	// N counts lines from 0.
	N int
	// Time is when the line's first byte arrived, as host time since QEMU started.
	Time time.Duration
	// Text is the line without escape sequences, carriage returns and the newline.
	Text string
}

// String formats the line as the console log does: "[  12.345s] text".
func (l Line) String() string {
	return fmt.Sprintf("[%8.3fs] %s", l.Time.Seconds(), l.Text)
}

// console collects the serial console: lines in memory and in a log file.
type console struct {
	start time.Time
	log   io.Writer

	mu          sync.Mutex
	lines       []Line
	partial     []byte        // the line being received
	partialTime time.Duration // when its first byte arrived
	partialLast time.Duration // when its last byte arrived
	closed      bool          // the reader hit the end of the stream
	changed     chan struct{} // closed and replaced whenever lines, partial or closed change
}

func newConsole(start time.Time, log io.Writer) *console {
	return &console{start: start, log: log, changed: make(chan struct{})}
}

// read consumes r until it ends, then marks the console closed.
func (c *console) read(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c.add(buf[:n], time.Since(c.start))
		}
		if err != nil {
			break
		}
	}
	c.mu.Lock()
	if len(c.partial) > 0 {
		c.finishLine()
	}
	c.closed = true
	c.notify()
	c.mu.Unlock()
}

// add appends received bytes, completing a line at every '\n'.
func (c *console) add(p []byte, now time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(p) > 0 {
		if len(c.partial) == 0 {
			c.partialTime = now
		}
		c.partialLast = now
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			break
		}
		c.partial = append(c.partial, p[:i]...)
		c.finishLine()
		p = p[i+1:]
	}
	c.notify()
}

// finishLine turns the partial line into a Line; c.mu is held.
func (c *console) finishLine() {
	l := Line{N: len(c.lines), Time: c.partialTime, Text: cleanLine(c.partial)}
	c.lines = append(c.lines, l)
	c.partial = c.partial[:0]
	if c.log != nil {
		_, _ = io.WriteString(c.log, l.String()+"\n")
	}
}

func (c *console) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait returns the first line from line from on that matches one of res, with the index of
// the regexp. The line being received counts too once it has been quiet for PromptQuiet, so
// prompts without a newline match. It returns ErrConsoleClosed when the console ends first, or
// ctx's error.
func (c *console) wait(ctx context.Context, from int, res []*regexp.Regexp) (int, Line, error) {
	for {
		var settled <-chan time.Time
		c.mu.Lock()
		for ; from < len(c.lines); from++ {
			if i := matchAny(res, c.lines[from].Text); i >= 0 {
				l := c.lines[from]
				c.mu.Unlock()
				return i, l, nil
			}
		}
		// The line being written counts as line len(c.lines), and only when the caller has not
		// already seen it (from beyond it).
		if len(c.partial) > 0 && from <= len(c.lines) {
			l := Line{N: len(c.lines), Time: c.partialTime, Text: cleanLine(c.partial)}
			if i := matchAny(res, l.Text); i >= 0 {
				quiet := time.Since(c.start) - c.partialLast
				if quiet >= PromptQuiet {
					c.mu.Unlock()
					return i, l, nil
				}
				settled = time.After(PromptQuiet - quiet)
			}
		}
		closed, changed := c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return -1, Line{}, ErrConsoleClosed
		}
		select {
		case <-ctx.Done():
			return -1, Line{}, ctx.Err()
		case <-changed:
		case <-settled:
		}
	}
}

func matchAny(res []*regexp.Regexp, s string) int {
	for i, re := range res {
		if re.MatchString(s) {
			return i
		}
	}
	return -1
}

// snapshot returns a copy of the complete lines.
func (c *console) snapshot() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Line(nil), c.lines...)
}

// tail returns the last n lines, the line being received included, one per text line.
func (c *console) tail(n int) string {
	c.mu.Lock()
	lines := c.lines[max(0, len(c.lines)-n):]
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String() + "\n")
	}
	if len(c.partial) > 0 {
		b.WriteString(Line{Time: c.partialTime, Text: cleanLine(c.partial)}.String() + " (no newline yet)\n")
	}
	c.mu.Unlock()
	return b.String()
}

// cleanLine removes terminal escape sequences (CSI such as "\x1b[0;32m" or "\x1b[=3h", OSC,
// and two-byte escapes) and control characters other than tab from a raw console line, and
// makes it valid UTF-8.
func cleanLine(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		switch {
		case ch == 0x1b && i+1 < len(raw) && raw[i+1] == '[':
			// CSI: parameter bytes 0x30–0x3f, intermediate bytes 0x20–0x2f, one final byte.
			i += 2
			for i < len(raw) && raw[i] >= 0x20 && raw[i] <= 0x3f {
				i++
			}
		case ch == 0x1b && i+1 < len(raw) && raw[i+1] == ']':
			// OSC: up to BEL or ESC '\'.
			for i += 2; i < len(raw) && raw[i] != 0x07 && !(raw[i] == 0x1b && i+1 < len(raw) && raw[i+1] == '\\'); i++ {
			}
			if i < len(raw) && raw[i] == 0x1b {
				i++
			}
		case ch == 0x1b:
			i++ // a two-byte escape such as ESC c
		case ch == '\t' || ch >= 0x20 && ch != 0x7f:
			b.WriteByte(ch)
		}
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

// openLog creates the console log file.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create console log: %w", err)
	}
	return f, nil
}
