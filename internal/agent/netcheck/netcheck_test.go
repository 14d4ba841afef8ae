package netcheck

import (
	"bytes"
	"context"
	"testing"
)

func TestGitVersion(t *testing.T) {
	if got := gitVersion([]byte(`{"major": "1", "gitVersion": "v1.36.3", "x": 1}`)); got != "v1.36.3" {
		t.Errorf("gitVersion = %q", got)
	}
	if got := gitVersion([]byte(`{}`)); got != "?" {
		t.Errorf("gitVersion of {} = %q", got)
	}
}

// Outside a pod the check refuses to run rather than report a result it cannot have.
func TestOutsideAPod(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := Run(context.Background(), "kubernetes.default", &bytes.Buffer{}); err == nil {
		t.Fatal("Run outside a pod succeeded")
	}
}
