// Package secret holds credentials in a type that cannot be printed by accident: every fmt verb,
// %#v, slog and encoding/json show "<redacted>"; Reveal returns the value, so each place that
// really needs it says so in the code.
//
// Standard library only: every program may use it.
package secret

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what a secret shows instead of its value.
const Redacted = "<redacted>"

// String is a secret string. The zero value holds no secret.
type String struct {
	value string
}

// New wraps value.
func New(value string) String { return String{value: value} }

// Reveal returns the secret itself. Use it only where the value goes to its consumer (a
// kubeconfig, an HTTP header, a file of mode 0600), never to a log or an error.
func (s String) Reveal() string { return s.value }

// IsZero reports whether s holds nothing.
func (s String) IsZero() bool { return s.value == "" }

// Equal reports whether s and other hold the same value.
func (s String) Equal(other String) bool { return s.value == other.value }

// String shows Redacted (or "" when empty, so that a missing secret is visible as missing).
func (s String) String() string {
	if s.value == "" {
		return ""
	}
	return Redacted
}

// GoString redacts for %#v.
func (s String) GoString() string { return "secret.String(" + Redacted + ")" }

// Format redacts for every verb.
func (s String) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// LogValue redacts in log/slog records.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts in encoding/json, YAML and other text encoders; a secret is written to a
// file only through Reveal.
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
