package main

import (
	"strings"
	"testing"
)

// Every mistake in how kiln is called exits 2, as the README promises, naming the mistake.
func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "kiln"`},
		{"unknown subcommand of a group", []string{"token", "bogus"}, `unknown command "bogus" for "kiln token"`},
		{"unknown subcommand of cluster", []string{"cluster", "bogus"}, `unknown command "bogus" for "kiln cluster"`},
		{"missing argument", []string{"inspect"}, "accepts 1 arg(s), received 0"},
		{"extra argument", []string{"inspect", "a.raw", "b.raw"}, "accepts 1 arg(s), received 2"},
		{"argument to a command taking none", []string{"build", "extra"}, `unknown command "extra" for "kiln build"`},
		{"argument after flags", []string{"token", "list", "--dir", "x", "extra"}, `"extra"`},
		{"unknown flag", []string{"--bogus"}, "unknown flag: --bogus"},
		{"unknown flag of a group", []string{"token", "--bogus"}, "unknown flag: --bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := kiln(t, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("kiln %s: exit %d (want %d), stderr %q (want %q)", strings.Join(tc.args, " "), code, exitUsage, errOut, tc.want)
			}
		})
	}
	// A group alone still shows its help.
	if out, _, code := kiln(t, "token"); code != 0 || !strings.Contains(out, "create") {
		t.Errorf("kiln token: exit %d:\n%s", code, out)
	}
}
