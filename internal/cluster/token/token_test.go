package token

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/common/secret"
	"github.com/kilnproject/kiln/internal/testkit/tokentest"
)

const (
	testID     = "abcdef"
	testSecret = "0123456789abcdef"
	testToken  = testID + "." + testSecret
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 500, time.FixedZone("CEST", 2*3600))

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(tok.Value()); err != nil {
			t.Fatalf("generated token does not parse: %v", err)
		}
		if seen[tok.Value()] {
			t.Fatalf("token %s generated twice", tok)
		}
		seen[tok.Value()] = true
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		id, secret string
		wantErr    bool
	}{
		{name: "valid", in: testToken, id: testID, secret: testSecret},
		{name: "upper case secret", in: testID + ".0123456789ABCDEF", wantErr: true},
		{name: "short secret", in: testID + ".0123456789abcde", wantErr: true},
		{name: "long secret", in: testID + ".0123456789abcdef0", wantErr: true},
		{name: "no dot", in: testID + testSecret, wantErr: true},
		{name: "two dots", in: testID + "." + testSecret + ".x", wantErr: true},
		{name: "bad id", in: "abc-ef." + testSecret, wantErr: true},
		{name: "trailing newline", in: testToken + "\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q): got %v, want ErrInvalid", tc.in, err)
				}
				tokentest.AssertNoSecret(t, err, tc.in)
				return
			}
			if err != nil || tok.ID != tc.id || tok.Secret.Reveal() != tc.secret || tok.Value() != tc.in {
				t.Fatalf("Parse(%q) = %q, %v", tc.in, tok.Value(), err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := func() *Token {
		return &Token{ID: testID, Secret: secret.New(testSecret), Usages: []string{UsageSigning, UsageAuthentication},
			Groups: []string{"system:bootstrappers:kubeadm:default-node-token"}}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		change     func(*Token)
	}{
		{"bad id", "want [a-z0-9]{6}", func(t *Token) { t.ID = "ABCDEF" }},
		{"bad secret", "not of the form", func(t *Token) { t.Secret = secret.New("short") }},
		{"no usages", "no usages", func(t *Token) { t.Usages = nil }},
		{"unknown usage", "flying", func(t *Token) { t.Usages = []string{"signing", "flying"} }},
		{"bad group", "system:masters", func(t *Token) { t.Groups = []string{"system:masters"} }},
		{"group ends in a colon", "system:bootstrappers:x:", func(t *Token) { t.Groups = []string{"system:bootstrappers:x:"} }},
		{"groups without authentication", "authentication", func(t *Token) { t.Usages = []string{UsageSigning} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := valid()
			tc.change(tok)
			err := tok.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
			tokentest.AssertNoSecret(t, err, testToken)
		})
	}
}

// TestTokenNeverPrinted tries every way a token reaches a log line.
func TestTokenNeverPrinted(t *testing.T) {
	tok, err := Parse(testToken)
	if err != nil {
		t.Fatal(err)
	}
	full := tok
	full.Description, full.Usages = "for worker-1", []string{UsageAuthentication}
	var out bytes.Buffer
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %[1]v"} {
		out.Reset()
		for _, v := range []any{tok, &tok, full, &full, struct{ T Token }{tok}, []*Token{&full}} {
			fmt.Fprintf(&out, format, v)
		}
		if strings.Contains(out.String(), testSecret) || strings.Contains(out.String(), hex.EncodeToString([]byte(testSecret))) {
			t.Errorf("%s shows the secret: %s", format, out.String())
		}
	}
	out.Reset()
	slog.New(slog.NewJSONHandler(&out, nil)).Info("joining", "token", tok, "full", &full)
	if strings.Contains(out.String(), testSecret) || !strings.Contains(out.String(), "abcdef.<redacted>") {
		t.Errorf("slog: %s", out.String())
	}
	if tok.Value() != testToken {
		t.Errorf("Value = %q, want the credential", tok.Value())
	}
}

func TestExpired(t *testing.T) {
	exp := now.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		expires *time.Time
		at      time.Time
		want    bool
	}{
		{"never", nil, now.Add(100 * 365 * 24 * time.Hour), false},
		{"before", &exp, now, false},
		{"at", &exp, exp, true},
		{"after", &exp, exp.Add(time.Second), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := &Token{Expires: tc.expires}
			if got := tok.Expired(tc.at); got != tc.want {
				t.Errorf("Expired = %v, want %v", got, tc.want)
			}
		})
	}
}
