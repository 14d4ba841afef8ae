package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const value = "0123456789abcdef"

func TestRedactedEverywhere(t *testing.T) {
	s := New(value)
	wrapped := struct {
		Name  string
		Token String
	}{"n", s}
	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		printed = append(printed, fmt.Sprintf(verb, s), fmt.Sprintf(verb, wrapped), fmt.Sprintf(verb, &wrapped))
	}
	printed = append(printed, fmt.Sprint(s), fmt.Sprintln(s), s.String())
	j, err := json.Marshal(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	printed = append(printed, string(j))
	var logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("token", "token", s, "struct", wrapped)
	}
	printed = append(printed, logged.String())
	for _, p := range printed {
		if strings.Contains(p, value) || strings.Contains(p, fmt.Sprintf("%x", value)) {
			t.Errorf("secret printed: %s", p)
		}
	}
	if !strings.Contains(logged.String(), Redacted) {
		t.Errorf("log %q does not say the value was redacted", logged.String())
	}
}

func TestRevealAndZero(t *testing.T) {
	if got := New(value).Reveal(); got != value {
		t.Errorf("Reveal = %q", got)
	}
	var zero String
	if !zero.IsZero() || zero.String() != "" || New(value).IsZero() {
		t.Error("IsZero or the empty form is wrong")
	}
	if !New(value).Equal(New(value)) || New(value).Equal(zero) {
		t.Error("Equal is wrong")
	}
}
