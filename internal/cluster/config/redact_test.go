package config

import (
	"strings"
	"testing"
)

// A token pasted into the wrong field of bootstrapTokens is never echoed by the error.
func TestParseErrorsDoNotEchoATokenInTTLOrExpires(t *testing.T) {
	for _, field := range []string{
		"ttl: abcdef.0123456789abcdef",
		`ttl: "abcdef.0123456789abcdef"`,
		"expires: abcdef.0123456789abcdef",
		"ttl: 0123456789abcdef",
		"expires: 0123456789abcdef",
	} {
		doc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: ghijkl.0123456789ghijkl\n  " + field + "\n"
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Errorf("%s: parsed", field)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "0123456789abcdef") || strings.Contains(msg, "0123456789ghijkl") {
			t.Errorf("%s: error echoes the secret: %s", field, msg)
		} else if !strings.Contains(msg, "bootstrapTokens[0]."+strings.SplitN(field, ":", 2)[0]) {
			t.Errorf("%s: error does not name the field: %s", field, msg)
		}
	}
}

func TestParseErrorsNameTheBadDurationAndTime(t *testing.T) {
	doc := "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- ttl: 24h\n- expires: 2030-01-02T03:04:05Z\n"
	if _, err := Parse([]byte(doc)); err != nil {
		t.Fatalf("valid ttl and expires refused: %v", err)
	}
}
