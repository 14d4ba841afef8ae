// Package linelog is the slog handler for lines people read: each record is written as its
// message alone, on one line, after a fixed prefix ("[routes] route 10.244.1.0/24 via …",
// "[3/7] squashfs (4.1s)"). Attributes are for the structured handlers beside it: a library
// logs once to a *slog.Logger, and a program that wants both the console line and the journal
// entry gives it slog.NewMultiHandler(journal, linelog.NewHandler(console, prefix)).
//
// Standard library only: every program may use it.
package linelog

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// Handler writes records' messages as lines to a writer.
type Handler struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	level  slog.Leveler
}

// NewHandler returns a handler that writes prefix+message+"\n" to w for records at Info and
// above.
func NewHandler(w io.Writer, prefix string) *Handler {
	return &Handler{mu: &sync.Mutex{}, w: w, prefix: prefix, level: slog.LevelInfo}
}

// New is slog.New(NewHandler(w, "")).
func New(w io.Writer) *slog.Logger { return slog.New(NewHandler(w, "")) }

// Enabled reports whether level is at least Info.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// Handle writes the record's message as one line (a newline inside it is kept; a trailing one
// is not doubled).
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	line := h.prefix + strings.TrimSuffix(r.Message, "\n") + "\n"
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	return err
}

// WithAttrs returns h: attributes are not written.
func (h *Handler) WithAttrs([]slog.Attr) slog.Handler { return h }

// WithGroup returns h: groups hold attributes, which are not written.
func (h *Handler) WithGroup(string) slog.Handler { return h }
