package earlyboot

import (
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/contract/console"
)

func TestConsole(t *testing.T) {
	var out, log strings.Builder
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newConsole(&out, start)
	c.now = func() time.Time { return start.Add(1234 * time.Millisecond) }
	c.Printf("loaded %d kernel modules", 17)
	c.setLog(&log)
	c.MarkBare(console.InitSwitching, " (total %.2f s)", 3.456)
	c.Mark(console.InitGrewVar, " (%s)", "vda3")
	c.Raw("ignition: INFO     : x\n")
	want := "kiln-init: loaded 17 kernel modules (+1.23s)\nkiln-init: switching to systemd (total 3.46 s)\nkiln-init: grew KILN-VAR (vda3) (+1.23s)\nignition: INFO     : x\n"
	if out.String() != want {
		t.Errorf("console:\n%s\nwant:\n%s", out.String(), want)
	}
	if want := want[strings.Index(want, "\n")+1:]; log.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), want)
	}
	if !strings.HasPrefix(out.String(), console.Prefix) || !strings.Contains(out.String(), console.InitSwitching) {
		t.Error("the lines do not carry the markers")
	}
}
