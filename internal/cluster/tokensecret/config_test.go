package tokensecret

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/secret"
	"github.com/kilnproject/kiln/internal/testkit/tokentest"
)

const (
	testID     = "abcdef"
	testSecret = "0123456789abcdef"
	testToken  = testID + "." + testSecret
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 500, time.FixedZone("CEST", 2*3600))

// sameSecret lets cmp compare tokens: their secrets by value.
var sameSecret = cmp.Comparer(func(a, b secret.String) bool { return a.Equal(b) })

func ptr[T any](v T) *T { return &v }

func TestFromConfig(t *testing.T) {
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		in      config.BootstrapToken
		want    *token.Token // ID and Secret are checked only when in.Token is set
		wantErr string
	}{{
		name: "kubeadm defaults",
		in:   config.BootstrapToken{Token: testToken},
		want: &token.Token{ID: testID, Secret: secret.New(testSecret), Expires: ptr(now.UTC().Add(24 * time.Hour).Truncate(time.Second)),
			Usages: []string{"signing", "authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name: "generated",
		in:   config.BootstrapToken{Description: "generated"},
		want: &token.Token{Description: "generated", Expires: ptr(now.UTC().Add(24 * time.Hour).Truncate(time.Second)),
			Usages: []string{"signing", "authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name: "ttl 0 never expires",
		in:   config.BootstrapToken{Token: testToken, TTL: &metav1.Duration{}, Usages: []string{"authentication"}, Groups: []string{}},
		want: &token.Token{ID: testID, Secret: secret.New(testSecret), Usages: []string{"authentication"}, Groups: []string{config.DefaultNodeTokenGroup}},
	}, {
		name: "expires wins over ttl",
		in:   config.BootstrapToken{Token: testToken, TTL: &metav1.Duration{Duration: time.Hour}, Expires: &metav1.Time{Time: expires}},
		want: &token.Token{ID: testID, Secret: secret.New(testSecret), Expires: &expires,
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
				if !errors.Is(err, token.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want ErrInvalid mentioning %q", err, tc.wantErr)
				}
				tokentest.AssertNoSecret(t, err, tc.in.Token)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.in.Token == "" {
				if _, err := token.Parse(got.Value()); err != nil {
					t.Fatalf("generated token: %v", err)
				}
				tc.want.ID, tc.want.Secret = got.ID, got.Secret
			}
			if diff := cmp.Diff(tc.want, got, sameSecret); diff != "" {
				t.Errorf("FromConfig (-want +got):\n%s", diff)
			}
			// ToConfig round-trips through FromConfig, even much later.
			again, err := FromConfig(ToConfig(got), now.Add(1000*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again, sameSecret); diff != "" {
				t.Errorf("ToConfig/FromConfig round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToConfigNeverHasTTLAndExpires(t *testing.T) {
	tok := &token.Token{ID: testID, Secret: secret.New(testSecret), Expires: ptr(now), Usages: []string{"signing"}}
	if bt := ToConfig(tok); bt.TTL != nil || bt.Expires == nil || bt.Token != testToken {
		t.Errorf("expiring token: %+v", bt)
	}
	tok.Expires = nil
	if bt := ToConfig(tok); bt.TTL == nil || bt.TTL.Duration != 0 || bt.Expires != nil {
		t.Errorf("never-expiring token: %+v", bt)
	}
}
