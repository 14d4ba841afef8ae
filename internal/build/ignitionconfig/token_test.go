package ignitionconfig

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/secret"
)

func TestWorkerToken(t *testing.T) {
	d := newCluster(t)
	first, err := d.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	def := first[0] // expires in 24h, signing and authentication
	forever := &token.Token{ID: "forevr", Secret: secret.New("0123456789abcdef"), Usages: []string{"signing", "authentication"}}
	authOnly := &token.Token{ID: "authon", Secret: secret.New("aaaaaaaaaaaaaaaa"), Usages: []string{"authentication"}}
	for _, tok := range []*token.Token{authOnly, forever} {
		if err := d.AddToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(48 * time.Hour) // the default token has expired
	for _, tc := range []struct {
		name    string
		opts    Options
		want    string // the token written, or
		wantErr string // an ErrNoToken containing this
	}{
		{name: "first usable", opts: Options{}, want: def.Value()},
		{name: "first usable once the first expired", opts: Options{Now: later}, want: forever.Value()},
		{name: "by id", opts: Options{Token: "forevr"}, want: forever.Value()},
		{name: "whole token", opts: Options{Token: forever.Value()}, want: forever.Value()},
		{name: "whole token created online", opts: Options{Token: "online.bbbbbbbbbbbbbbbb"}, want: "online.bbbbbbbbbbbbbbbb"},
		{name: "without signing, with the CA file", opts: Options{Token: "authon", CACert: true}, want: authOnly.Value()},
		{name: "without signing", opts: Options{Token: "authon"}, wantErr: "lacks the usage signing"},
		{name: "expired", opts: Options{Token: def.ID, Now: later}, wantErr: "expired at"},
		{name: "unknown id", opts: Options{Token: "nosuch"}, wantErr: `no token with ID "nosuch"`},
		{name: "secret differs", opts: Options{Token: "forevr.cccccccccccccccc"}, wantErr: "differs"},
		{name: "malformed", opts: Options{Token: "forevr.CCCCCCCCCCCCCCCC"}, wantErr: "invalid bootstrap token"},
		{name: "secret alone", opts: Options{Token: "cccccccccccccccc"}, wantErr: "16 characters"},
		{name: "a token that never expires", opts: Options{Now: time.Now().Add(100 * 365 * 24 * time.Hour)}, want: forever.Value()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Role = nodeconfig.RoleWorker
			out, err := Render(d, tc.opts)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Render: %v, want ErrNoToken containing %q", err, tc.wantErr)
				}
				for _, secret := range []string{"cccccccccccccccc", "CCCCCCCCCCCCCCCC", forever.Secret.Reveal(), authOnly.Secret.Reveal(), def.Secret.Reveal()} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error reveals a token secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := writtenToken(t, out); got != tc.want+"\n" {
				t.Errorf("bootstrap-token %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNoValidToken(t *testing.T) {
	d := newCluster(t)
	_, err := Render(d, Options{Role: nodeconfig.RoleWorker, Now: time.Now().Add(25 * time.Hour)})
	if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "expired at") || !strings.Contains(err.Error(), "kiln token create --dir") {
		t.Fatalf("Render: %v, want ErrNoToken naming the expiry and the fix", err)
	}
}

func writtenToken(t *testing.T, ign []byte) string {
	t.Helper()
	files, err := DecodeFiles(ign)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == nodeconfig.BootstrapTokenPath {
			return string(f.Contents)
		}
	}
	t.Fatal("no bootstrap-token file")
	return ""
}

func TestRenderOptionErrors(t *testing.T) {
	d := newCluster(t)
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr error
		msg     string
	}{
		{"unknown role", Options{Role: "master"}, nodeconfig.ErrInvalid, `role "master"`},
		{"no role", Options{}, nodeconfig.ErrInvalid, `role ""`},
		{"control plane with CA file", Options{Role: nodeconfig.RoleControlPlane, CACert: true}, ErrOptions, "for workers"},
		{"control plane with token", Options{Role: nodeconfig.RoleControlPlane, Token: "abcdef"}, ErrOptions, "for workers"},
		{"bad node name", Options{Role: nodeconfig.RoleWorker, NodeName: "Node_1"}, nodeconfig.ErrInvalid, "nodeName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(d, tc.opts)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Render: %v, want %v containing %q", err, tc.wantErr, tc.msg)
			}
		})
	}
}
