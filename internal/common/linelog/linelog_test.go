package linelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	var console, journal bytes.Buffer
	log := slog.New(slog.NewMultiHandler(slog.NewJSONHandler(&journal, nil), NewHandler(&console, "[routes] ")))
	log.With("node", "cp-1").Info("route 10.244.1.0/24 via 192.168.100.11", "cidr", "10.244.1.0/24")
	log.Warn("pod routes not synced: connection refused\n")
	log.Debug("not for people")
	want := "[routes] route 10.244.1.0/24 via 192.168.100.11\n[routes] pod routes not synced: connection refused\n"
	if console.String() != want {
		t.Errorf("console:\n%q\nwant\n%q", console.String(), want)
	}
	if !strings.Contains(journal.String(), `"cidr":"10.244.1.0/24"`) || !strings.Contains(journal.String(), `"node":"cp-1"`) {
		t.Errorf("the structured side lost the attributes: %s", journal.String())
	}
	console.Reset()
	New(&console).Info("[3/7] squashfs")
	if console.String() != "[3/7] squashfs\n" {
		t.Errorf("New: %q", console.String())
	}
}
