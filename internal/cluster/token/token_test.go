package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/cluster/config"
)

const (
	testID     = "abcdef"
	testSecret = "0123456789abcdef"
	testToken  = testID + "." + testSecret
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 500, time.FixedZone("CEST", 2*3600))

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		s, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Parse(s); err != nil {
			t.Fatalf("generated token does not parse: %v", err)
		}
		if seen[s] {
			t.Fatalf("token %s generated twice", s)
		}
		seen[s] = true
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
		{name: "empty", in: "", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, secret, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q): got %v, want ErrInvalid", tc.in, err)
				}
				assertNoSecret(t, err, tc.in)
				return
			}
			if err != nil || id != tc.id || secret != tc.secret {
				t.Fatalf("Parse(%q) = %q, %q, %v", tc.in, id, secret, err)
			}
		})
	}
}

// assertNoSecret fails when err shows the secret half of token, or the whole string when it
// has no recognisable ID.
func assertNoSecret(t *testing.T, err error, token string) {
	t.Helper()
	if err == nil {
		return
	}
	secret := token
	if _, s, ok := strings.Cut(token, "."); ok {
		secret = s
	}
	if len(secret) >= 4 && strings.Contains(err.Error(), secret) {
		t.Errorf("error reveals the token secret %q: %v", secret, err)
	}
}

func TestFromConfig(t *testing.T) {
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		in      config.BootstrapToken
		want    *Token // ID and Secret are checked only when in.Token is set
		wantErr string
	}{{
		name: "kubeadm defaults",
		in:   config.BootstrapToken{Token: testToken},
		want: &Token{ID: testID, Secret: testSecret, Expires: ptr(now.UTC().Add(24 * time.Hour).Truncate(time.Second)),
			Usages: []string{"signing", "authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name: "generated",
		in:   config.BootstrapToken{Description: "generated"},
		want: &Token{Description: "generated", Expires: ptr(now.UTC().Add(24 * time.Hour).Truncate(time.Second)),
			Usages: []string{"signing", "authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name: "ttl 0 never expires",
		in:   config.BootstrapToken{Token: testToken, TTL: &metav1.Duration{}, Usages: []string{"authentication"}, Groups: []string{}},
		want: &Token{ID: testID, Secret: testSecret, Usages: []string{"authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name: "expires wins over ttl",
		in:   config.BootstrapToken{Token: testToken, TTL: &metav1.Duration{Duration: time.Hour}, Expires: &metav1.Time{Time: expires}},
		want: &Token{ID: testID, Secret: testSecret, Expires: &expires,
			Usages: []string{"signing", "authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name:    "invalid token",
		in:      config.BootstrapToken{Token: testID + ".NOTASECRETATALL"},
		wantErr: "invalid bootstrap token",
	}, {
		name:    "negative ttl",
		in:      config.BootstrapToken{Token: testToken, TTL: &metav1.Duration{Duration: -time.Hour}},
		wantErr: "negative",
	}, {
		name:    "unknown usage",
		in:      config.BootstrapToken{Token: testToken, Usages: []string{"signing", "flying"}},
		wantErr: "flying",
	}, {
		name:    "bad group",
		in:      config.BootstrapToken{Token: testToken, Groups: []string{"system:masters"}},
		wantErr: "system:masters",
	}, {
		name:    "groups without authentication",
		in:      config.BootstrapToken{Token: testToken, Usages: []string{"signing"}},
		wantErr: "authentication",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromConfig(tc.in, now)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want ErrInvalid mentioning %q", err, tc.wantErr)
				}
				assertNoSecret(t, err, tc.in.Token)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.in.Token == "" {
				if _, _, err := Parse(got.String()); err != nil {
					t.Fatalf("generated token: %v", err)
				}
				tc.want.ID, tc.want.Secret = got.ID, got.Secret
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FromConfig (-want +got):\n%s", diff)
			}
			// ToConfig round-trips through FromConfig, even much later.
			again, err := FromConfig(got.ToConfig(), now.Add(1000*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("ToConfig/FromConfig round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToConfigNeverHasTTLAndExpires(t *testing.T) {
	tok := &Token{ID: testID, Secret: testSecret, Expires: ptr(now), Usages: []string{"signing"}}
	if bt := tok.ToConfig(); bt.TTL != nil || bt.Expires == nil || bt.Token != testToken {
		t.Errorf("expiring token: %+v", bt)
	}
	tok.Expires = nil
	if bt := tok.ToConfig(); bt.TTL == nil || bt.TTL.Duration != 0 || bt.Expires != nil {
		t.Errorf("never-expiring token: %+v", bt)
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

func ptr[T any](v T) *T { return &v }
