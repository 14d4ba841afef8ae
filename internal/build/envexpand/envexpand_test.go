package envexpand

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	home, _ := os.UserHomeDir()
	env := map[string]string{"A": "/a"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct{ in, want, wantErr string }{
		{in: "${A}/x", want: "/a/x"},
		{in: "$A/x", want: "/a/x"},
		{in: "plain", want: "plain"},
		{in: "${KILN_CACHE}/store", want: filepath.Join(home, ".cache", "kiln") + "/store"},
		{in: "${B}/x", wantErr: "B is not set"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, lookup)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Expand(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
