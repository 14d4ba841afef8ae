package tokensecret

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
)

// FromConfig makes a Token from kubeadm's bootstrapTokens entry. It generates the token when
// bt.Token is empty and applies kubeadm's defaults (24h TTL, usages signing and authentication,
// the default-node-token group). Expires wins over TTL, as in kubeadm; a TTL of 0 means the token
// never expires.
func FromConfig(bt config.BootstrapToken, now time.Time) (*token.Token, error) {
	bt.SetDefaults()
	var t token.Token
	var err error
	if bt.Token == "" {
		t, err = token.Generate()
	} else {
		t, err = token.Parse(bt.Token)
	}
	if err != nil {
		return nil, err
	}
	t.Description = bt.Description
	t.Usages = slices.Clone(bt.Usages)
	t.Groups = slices.Clone(bt.Groups)
	switch {
	case bt.Expires != nil:
		t.Expires = secondsUTC(bt.Expires.Time)
	case bt.TTL != nil && bt.TTL.Duration < 0:
		return nil, fmt.Errorf("bootstrap token %s: %w: ttl %s is negative", t.ID, token.ErrInvalid, bt.TTL.Duration)
	case bt.TTL != nil && bt.TTL.Duration > 0:
		t.Expires = secondsUTC(now.Add(bt.TTL.Duration))
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

func secondsUTC(t time.Time) *time.Time {
	u := t.UTC().Truncate(time.Second)
	return &u
}

// ToConfig returns t as a bootstrapTokens entry that FromConfig reads back unchanged: with
// Expires when the token expires, and with a TTL of 0 when it never does.
func ToConfig(t *token.Token) config.BootstrapToken {
	bt := config.BootstrapToken{
		Token:       t.Value(),
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
