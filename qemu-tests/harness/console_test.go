package harness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCleanLine(t *testing.T) {
	for raw, want := range map[string]string{
		"plain text\r":                       "plain text",
		"\x1b[0;32m  OK  \x1b[0m] Reached":   "  OK  ] Reached",
		"\x1b[=3h\x1b[=3hBdsDxe: loading":    "BdsDxe: loading",
		"\x1b[?25l\x1b[2J\x1b[01;01Hshell":   "shell",
		"\x1b]0;title\x07after":              "after",
		"\x1b]0;title\x1b\\after":            "after",
		"\x1bcreset":                         "reset",
		"tab\there\x00\x07":                  "tab\there",
		"Press ESC in 5 \rPress ESC in 4 \r": "Press ESC in 5 Press ESC in 4 ",
		"bad \xff utf8":                      "bad \uFFFD utf8",
	} {
		if got := cleanLine([]byte(raw)); got != want {
			t.Errorf("cleanLine(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestConsole(t *testing.T) {
	var log bytes.Buffer
	c := newConsole(time.Now(), &log)
	r, w := io.Pipe()
	done := make(chan struct{})
	go func() { c.read(r); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A marker printed later is found; one printed earlier too.
	found := make(chan Line, 1)
	go func() {
		_, l, err := c.wait(ctx, 0, []*regexp.Regexp{regexp.MustCompile(`^second$`)})
		if err != nil {
			t.Error(err)
		}
		found <- l
	}()
	io.WriteString(w, "first\r\nsec")
	io.WriteString(w, "ond\nlogin: ")
	if l := <-found; l.N != 1 || l.Text != "second" {
		t.Errorf("got %+v, want line 1 \"second\"", l)
	}
	if _, l, err := c.wait(ctx, 0, []*regexp.Regexp{regexp.MustCompile(`^first$`)}); err != nil || l.N != 0 {
		t.Errorf("earlier line: %+v %v", l, err)
	}
	// A prompt without a newline matches; WaitForFrom skips what came before.
	i, l, err := c.wait(ctx, 1, []*regexp.Regexp{regexp.MustCompile(`^first$`), regexp.MustCompile(`login: $`)})
	if err != nil || i != 1 || l.N != 2 {
		t.Errorf("prompt: %d %+v %v", i, l, err)
	}
	// Waiting from after the prompt does not find the prompt again while it is still being
	// written (a caller stepping through lines would see it forever).
	again, cancelAgain := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelAgain()
	if _, l, err := c.wait(again, 3, []*regexp.Regexp{regexp.MustCompile(`login: $`)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("from after the prompt: %+v %v, want a timeout", l, err)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, _, err := c.wait(short, 0, []*regexp.Regexp{regexp.MustCompile(`never`)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	w.Close()
	<-done
	if _, _, err := c.wait(ctx, 0, []*regexp.Regexp{regexp.MustCompile(`never`)}); !errors.Is(err, ErrConsoleClosed) {
		t.Errorf("after the end: %v, want ErrConsoleClosed", err)
	}
	lines := c.snapshot()
	if len(lines) != 3 || lines[2].Text != "login: " {
		t.Errorf("lines %+v: want the prompt flushed as the last line", lines)
	}
	if got := log.String(); !regexp.MustCompile(`^\[ +\d+\.\d{3}s\] first\n\[ +\d+\.\d{3}s\] second\n\[ +\d+\.\d{3}s\] login: \n$`).MatchString(got) {
		t.Errorf("log:\n%s", got)
	}
	if tail := c.tail(2); strings.Count(tail, "\n") != 2 || !strings.Contains(tail, "] second\n") {
		t.Errorf("tail(2):\n%s", tail)
	}
}

// TestLineInPieces: a line arriving in pieces is matched whole, though its first piece
// matches too, so a regexp capturing the line's end sees all of it.
func TestLineInPieces(t *testing.T) {
	c := newConsole(time.Now(), io.Discard)
	r, w := io.Pipe()
	go c.read(r)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	found := make(chan Line, 1)
	go func() {
		_, l, err := c.wait(ctx, 0, []*regexp.Regexp{regexp.MustCompile(`var-mib=(\d+)`)})
		if err != nil {
			t.Error(err)
		}
		found <- l
	}()
	io.WriteString(w, "KILN-PROBE var-mib=5")
	time.Sleep(PromptQuiet / 4)
	io.WriteString(w, "843\n")
	if l := <-found; l.Text != "KILN-PROBE var-mib=5843" {
		t.Errorf("got %+v, want the whole line", l)
	}
}

func TestPhases(t *testing.T) {
	s := time.Second
	lines := []Line{
		{Time: 1 * s, Text: "BdsDxe: loading Boot0001"},
		{Time: 3 * s, Text: "[    0.000000] Linux version 6.1.0-56-amd64"},
		{Time: 5 * s, Text: "kiln-init: mounting /dev"},
		{Time: 8 * s, Text: "kiln-init: switching to systemd"},
		{Time: 9 * s, Text: "kiln-init: switching to systemd"},
		{Time: 20 * s, Text: "[  OK  ] Reached target multi-user.target - Multi-User System."},
		{Time: 25 * s, Text: "node ready"},
	}
	got := phasesOf(lines, nil)
	want := []Phase{
		{"firmware", 0, 3 * s, true}, {"kernel", 3 * s, 5 * s, true}, {"init", 5 * s, 8 * s, true},
		{"systemd", 8 * s, 20 * s, true}, {"total", 0, 20 * s, true},
	}
	if !slicesEqual(got, want) {
		t.Errorf("phases\n got %+v\nwant %+v", got, want)
	}
	got = phasesOf(lines[:2], nil)
	if !got[0].Complete || got[1].Complete || got[4].Complete || got[4].Duration() != 0 {
		t.Errorf("partial boot: %+v", got)
	}
	got = phasesOf(lines, regexp.MustCompile(`node ready`))
	if got[3].End != 25*s || got[4].Duration() != 25*s {
		t.Errorf("BootDone: %+v", got)
	}
	table := FormatTimings("node1", "tcg", phasesOf(lines[:2], nil))
	for _, w := range []string{"boot timings of node1 (tcg)", "firmware  0.00s  3.00s     3.00s", "kernel      -      -         -"} {
		if !strings.Contains(table, w) {
			t.Errorf("table lacks %q:\n%s", w, table)
		}
	}
}

func slicesEqual(a, b []Phase) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
