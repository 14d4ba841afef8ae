// Package tokentest holds test helpers for code whose errors may mention a bootstrap token.
package tokentest

import (
	"strings"
	"testing"
)

// AssertNoSecret fails t when err shows the secret half of tok (the whole string when it has no
// recognisable ID). For the tests of every package whose errors may mention a token.
func AssertNoSecret(t testing.TB, err error, tok string) {
	t.Helper()
	if err == nil {
		return
	}
	secret := tok
	if _, s, ok := strings.Cut(tok, "."); ok {
		secret = s
	}
	if len(secret) >= 4 && strings.Contains(err.Error(), secret) {
		t.Errorf("error reveals the token secret %q: %v", secret, err)
	}
}
