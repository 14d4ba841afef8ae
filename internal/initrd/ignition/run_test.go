package ignition

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var errNotExist = fs.ErrNotExist

func TestCheckSupported(t *testing.T) {
	for _, tc := range []struct {
		cfg, bad string
	}{
		{`{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/x"}]},"systemd":{"units":[{"name":"a.service","enabled":true}]}}`, ""},
		{`{"ignition":{"version":"3.4.0"},"storage":{"disks":[{"device":"/dev/vdb"}]}}`, "storage.disks"},
		{`{"storage":{"filesystems":[{"path":"/var/lib/data"}],"luks":[{"name":"x"}]}}`, "storage.filesystems, storage.luks"},
		{`{"kernelArguments":{"shouldExist":["quiet"]}}`, "kernelArguments"},
	} {
		err := checkSupported([]byte(tc.cfg))
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("checkSupported(%s) = %v, want nil", tc.cfg, err)
		case tc.bad != "" && (!errors.Is(err, ErrUnsupported) || !errors.Is(err, ErrIgnition) || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("checkSupported(%s) = %v, want ErrUnsupported naming %s", tc.cfg, err, tc.bad)
		}
	}
	if err := checkSupported([]byte("{")); !errors.Is(err, ErrIgnition) {
		t.Errorf("checkSupported of broken JSON = %v, want ErrIgnition", err)
	}
}

func TestUserConfigFetched(t *testing.T) {
	for state, want := range map[string]bool{
		`{"fetchedConfigs":[{"kind":"user","source":"qemu","referenced":false}]}`:   true,
		`{"fetchedConfigs":[{"kind":"base","source":"system","referenced":false}]}`: false,
		`{"fetchedConfigs":null}`: false,
		``:                        false,
	} {
		if got := userConfigFetched([]byte(state)); got != want {
			t.Errorf("userConfigFetched(%s) = %v, want %v", state, got, want)
		}
	}
}

// ignitionOutput is what Ignition v2.27 prints for an invalid config.
var ignitionOutput = `INFO     : Ignition 2.27.0
DEBUG    : parsing config with SHA512: 0123
INFO     : no config dir at "/run/ignition/base.d"
ERROR    : error at $.ignition.version: invalid config version (couldn't parse)
CRITICAL : failed to acquire config: config is not valid
fetch failed
Full config:
{
  "passwd": {"users": [{"name": "core", "passwordHash": "secret"}]}
}
CRITICAL : Ignition failed: config is not valid
`

func TestIgnitionFilter(t *testing.T) {
	for _, debug := range []bool{false, true} {
		var got []string
		f := &ignitionFilter{debug: debug, emit: func(s string) { got = append(got, s) }}
		w := &lineWriter{fn: f.line}
		// Written in odd pieces, as a pipe delivers it.
		for rest := ignitionOutput; rest != ""; {
			n := min(7, len(rest))
			if _, err := w.Write([]byte(rest[:n])); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		w.flush()
		want := []string{
			"ignition: INFO     : Ignition 2.27.0",
			"ignition: ERROR    : error at $.ignition.version: invalid config version (couldn't parse)",
			"ignition: CRITICAL : failed to acquire config: config is not valid",
			"ignition: fetch failed",
			"ignition: (the full config is not shown: it may hold secrets)",
		}
		if debug {
			want = append(want[:1], append([]string{
				"ignition: DEBUG    : parsing config with SHA512: 0123",
				`ignition: INFO     : no config dir at "/run/ignition/base.d"`,
			}, want[1:]...)...)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("debug %v: console lines (-want +got):\n%s", debug, diff)
		}
		wantErr := "failed to acquire config: config is not valid (error at $.ignition.version: invalid config version (couldn't parse))"
		if e := f.lastError(); e != wantErr {
			t.Errorf("lastError = %q, want %q", e, wantErr)
		}
	}
}

func TestLineWriterFlush(t *testing.T) {
	var got []string
	w := &lineWriter{fn: func(s string) { got = append(got, s) }}
	_, _ = w.Write([]byte("a\r\nb\nc"))
	w.flush()
	w.flush()
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
