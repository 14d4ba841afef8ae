package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every mistake in how kiln-agent is called exits 2, naming the mistake.
func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "kiln-agent"`},
		{"extra argument", []string{"status", "extra"}, `unknown command "extra" for "kiln-agent status"`},
		{"argument to firstboot", []string{"firstboot", "now"}, `"now"`},
		{"unknown flag", []string{"status", "--bogus"}, "unknown flag: --bogus"},
		{"unknown root flag", []string{"--bogus"}, "unknown flag: --bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("kiln-agent %s: exit %d (want 2), stderr %q (want %q)", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
			}
		})
	}
}
