package termtext

import "testing"

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":       "plain name",
		"héllo":            "héllo",
		"a\x1b]0;x\x07b":   `a\x1b]0;x\x07b`,
		"tab\tnl\n":        `tab\x09nl\x0a`,
		"del\x7f c1\u009b": `del\x7f c1\u009b`,
		"bad\xffutf8":      `bad\xffutf8`,
		"rtl\u202egnp.exe": `rtl\u202egnp.exe`,
		"":                 "",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 16, "abc"},
		{"", 16, ""},
		{"0123456789abcdef", 16, "0123456789abcdef"},
		{"0123456789abcdefg", 16, "0123456789abcdef…"},
		{"ééé", 2, "éé…"},
		{"abc", -1, "…"},
	} {
		if got := Shorten(tc.in, tc.n); got != tc.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
