// Package termtext makes text read from files someone else wrote (an image's image.json, a
// token's description) safe to print on a terminal: control characters, which can move the
// cursor, retitle the window or hide what follows, are shown escaped. Standard library only.
package termtext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s with every control character (C0 including tab and newline, DEL, C1), every
// bidirectional override and every invalid UTF-8 byte escaped Go-style (\x1b, \u202e), so that
// it prints as one line of plain text. Text without them is returned as it is.
func Clean(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) || isBidi(r) {
			return true
		}
	}
	return false
}

// isBidi reports the invisible characters that reorder the text around them.
func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Shorten returns s cut to at most n characters (runes, never splitting one) followed by "…"
// when it is longer; a shorter s is returned whole. It never panics, whatever s is.
func Shorten(s string, n int) string {
	if n < 0 {
		n = 0
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i] + "…"
		}
		count++
	}
	return s
}
