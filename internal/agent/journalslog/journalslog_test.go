package journalslog

import "testing"

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{"phase": "KILN_PHASE", "retry_in": "KILN_RETRY_IN", "a.b-c": "KILN_A_B_C"} {
		if got := FieldName(in); got != want {
			t.Errorf("FieldName(%q) = %q, want %q", in, got, want)
		}
	}
}
