package token

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/kilnproject/kiln/internal/cluster/config"
)

// ErrInvalid marks a token string, token configuration or token Secret that is not a valid
// bootstrap token.
var ErrInvalid = errors.New("invalid bootstrap token")

// Token is one bootstrap token with everything its Secret carries.
type Token struct {
	// ID is the public half ([a-z0-9]{6}); the Secret is named after it.
	ID string
	// Secret is the private half ([a-z0-9]{16}). It is a credential: never log it.
	Secret string
	// Description is a note for people.
	Description string
	// Expires is when the token stops working, in UTC and whole seconds (the Secret's RFC3339
	// precision); nil means it never expires.
	Expires *time.Time
	// Usages are what the token may do: "signing" (cluster-info JWS) and "authentication".
	Usages []string
	// Groups are the extra groups the token authenticates as, besides system:bootstrappers.
	Groups []string
}

// Generate returns a new random token "id.secret", from cluster-bootstrap's generator.
func Generate() (string, error) {
	s, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return "", fmt.Errorf("generate bootstrap token: %w", err)
	}
	return s, nil
}

// Parse splits a token "id.secret" into its halves. Its error never contains the secret.
func Parse(s string) (id, secret string, err error) {
	if !bootstraputil.IsValidBootstrapToken(s) {
		return "", "", fmt.Errorf("%w %s: want the form %s", ErrInvalid, redact(s), "[a-z0-9]{6}.[a-z0-9]{16}")
	}
	id, secret, _ = strings.Cut(s, ".")
	return id, secret, nil
}

// redact describes a token string without its secret: the ID is public, so it is shown when it
// is a valid ID; anything else might be a secret and is only counted.
func redact(s string) string {
	if id, _, ok := strings.Cut(s, "."); ok && bootstraputil.IsValidBootstrapTokenID(id) {
		return fmt.Sprintf("%q", id+".<redacted>")
	}
	return fmt.Sprintf("(%d characters, redacted)", len(s))
}

// String returns the token as "id.secret", the form nodes and kubeadm take.
func (t *Token) String() string {
	return bootstraputil.TokenFromIDAndSecret(t.ID, t.Secret)
}

// FromConfig makes a Token from kubeadm's bootstrapTokens entry. It generates the token when
// bt.Token is empty and applies kubeadm's defaults (24h TTL, usages signing and authentication,
// the default-node-token group). Expires wins over TTL, as in kubeadm; a TTL of 0 means the token
// never expires.
func FromConfig(bt config.BootstrapToken, now time.Time) (*Token, error) {
	bt.SetDefaults()
	s := bt.Token
	if s == "" {
		var err error
		if s, err = Generate(); err != nil {
			return nil, err
		}
	}
	id, secret, err := Parse(s)
	if err != nil {
		return nil, err
	}
	t := &Token{
		ID:          id,
		Secret:      secret,
		Description: bt.Description,
		Usages:      slices.Clone(bt.Usages),
		Groups:      slices.Clone(bt.Groups),
	}
	switch {
	case bt.Expires != nil:
		t.Expires = secondsUTC(bt.Expires.Time)
	case bt.TTL != nil && bt.TTL.Duration < 0:
		return nil, fmt.Errorf("bootstrap token %s: %w: ttl %s is negative", id, ErrInvalid, bt.TTL.Duration)
	case bt.TTL != nil && bt.TTL.Duration > 0:
		t.Expires = secondsUTC(now.Add(bt.TTL.Duration))
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

func secondsUTC(t time.Time) *time.Time {
	u := t.UTC().Truncate(time.Second)
	return &u
}

// ToConfig returns t as a bootstrapTokens entry that FromConfig reads back unchanged: with
// Expires when the token expires, and with a TTL of 0 when it never does.
func (t *Token) ToConfig() config.BootstrapToken {
	bt := config.BootstrapToken{
		Token:       t.String(),
		Description: t.Description,
		Usages:      slices.Clone(t.Usages),
		Groups:      slices.Clone(t.Groups),
	}
	if t.Expires != nil {
		bt.Expires = &metav1.Time{Time: *t.Expires}
	} else {
		bt.TTL = &metav1.Duration{}
	}
	return bt
}

// Validate checks what the API server and kubeadm require of a token: the id.secret form,
// known usages, and groups of the form system:bootstrappers:..., which only an authentication
// token may carry.
func (t *Token) Validate() error {
	if !bootstraputil.IsValidBootstrapTokenID(t.ID) {
		return fmt.Errorf("%w: id %s: want [a-z0-9]{6}", ErrInvalid, redact(t.ID))
	}
	if _, _, err := Parse(t.String()); err != nil {
		return fmt.Errorf("bootstrap token %s: %w: the secret is not of the form [a-z0-9]{16}", t.ID, ErrInvalid)
	}
	if len(t.Usages) == 0 {
		return fmt.Errorf("bootstrap token %s: %w: no usages (want some of %s)", t.ID, ErrInvalid, strings.Join(bootstrapapi.KnownTokenUsages, ", "))
	}
	if err := bootstraputil.ValidateUsages(t.Usages); err != nil {
		return fmt.Errorf("bootstrap token %s: %w: %v", t.ID, ErrInvalid, err)
	}
	for _, g := range t.Groups {
		if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
			return fmt.Errorf("bootstrap token %s: %w: %v", t.ID, ErrInvalid, err)
		}
	}
	if len(t.Groups) > 0 && !slices.Contains(t.Usages, "authentication") {
		return fmt.Errorf("bootstrap token %s: %w: groups need the usage \"authentication\"", t.ID, ErrInvalid)
	}
	return nil
}

// Expired reports whether the token has stopped working at now, as the API server and the
// token cleaner judge it.
func (t *Token) Expired(now time.Time) bool {
	return t.Expires != nil && !now.Before(*t.Expires)
}
