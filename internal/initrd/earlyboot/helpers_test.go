package earlyboot

import (
	"testing"

	"github.com/kilnproject/kiln/internal/testkit/fakesys"
)

// writeFile writes content to path, creating its directories.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	fakesys.WriteFile(t, path, content)
}
