// Package journalslog is a log/slog handler that writes to the systemd journal with each
// attribute as a field of its own (KILN_PHASE=init/certs, KILN_DURATION=1.2s), so that
// "journalctl -u kiln-firstboot KILN_PHASE=join/discovery" finds a phase's entries.
package journalslog

import (
	"context"
	"log/slog"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// Handler sends records to journald.
type Handler struct {
	attrs []slog.Attr
	level slog.Level
}

// New returns a handler for records at level and above.
func New(level slog.Level) *Handler { return &Handler{level: level} }

// Available reports whether the journal's socket is there.
func Available() bool { return journal.Enabled() }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	vars := map[string]string{}
	add := func(a slog.Attr) { vars[FieldName(a.Key)] = a.Value.String() }
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	msg := r.Message
	if p, ok := vars["KILN_PHASE"]; ok {
		msg = "[" + p + "] " + msg
	}
	return journal.Send(msg, priority(r.Level), vars)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...), level: h.level}
}

// WithGroup implements slog.Handler; groups are flattened.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// FieldName turns an attribute key into a journal field name: KILN_ and the key in upper case,
// with anything but letters and digits as underscores.
func FieldName(key string) string {
	var b strings.Builder
	b.WriteString("KILN_")
	for _, r := range strings.ToUpper(key) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	return b.String()
}

func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}
