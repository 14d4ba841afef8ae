package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/common/secret"
)

// ErrInvalid marks a token string, token configuration or token Secret that is not a valid
// bootstrap token.
var ErrInvalid = errors.New("invalid bootstrap token")

// The usages a bootstrap token may have, in kubeadm's order.
const (
	UsageSigning        = "signing"
	UsageAuthentication = "authentication"
)

// KnownUsages lists every usage, in kubeadm's order.
var KnownUsages = []string{UsageSigning, UsageAuthentication}

// Form is the form of a token, for messages.
const Form = "[a-z0-9]{6}.[a-z0-9]{16}"

var (
	tokenRE = regexp.MustCompile(`\A([a-z0-9]{6})\.([a-z0-9]{16})\z`)
	idRE    = regexp.MustCompile(`\A[a-z0-9]{6}\z`)
	// groupRE is the form of an extra group (cluster-bootstrap's BootstrapGroupPattern).
	groupRE = regexp.MustCompile(`\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`)
)

// Token is one bootstrap token with everything its Secret carries.
type Token struct {
	// ID is the public half ([a-z0-9]{6}); the Secret is named after it.
	ID string
	// Secret is the private half ([a-z0-9]{16}), a credential that redacts itself.
	Secret secret.String
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

// Generate returns a new random token "id.secret" from the system's cryptographic random source.
func Generate() (Token, error) {
	s, err := randomString(6 + 16)
	if err != nil {
		return Token{}, fmt.Errorf("generate bootstrap token: %w", err)
	}
	return Token{ID: s[:6], Secret: secret.New(s[6:])}, nil
}

// alphabet is what a token is made of.
const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// randomString draws n characters of alphabet uniformly (bytes of 252 and above are dropped, so
// that every character is equally likely).
func randomString(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(rand.Reader, buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < 252 && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// Parse reads a token "id.secret". Its error never contains the secret.
func Parse(s string) (Token, error) {
	m := tokenRE.FindStringSubmatch(s)
	if m == nil {
		return Token{}, fmt.Errorf("%w %s: want the form %s", ErrInvalid, Redact(s), Form)
	}
	return Token{ID: m[1], Secret: secret.New(m[2])}, nil
}

// IsValidID reports whether id has the form of a token ID.
func IsValidID(id string) bool { return idRE.MatchString(id) }

// Redact describes a string that may be a token, without its secret: the ID is public, so it is
// shown when it is a valid ID; anything else might be a secret and is only counted.
func Redact(s string) string {
	if id, _, ok := strings.Cut(s, "."); ok && IsValidID(id) {
		return fmt.Sprintf("%q", id+"."+secret.Redacted)
	}
	return fmt.Sprintf("(%d characters, redacted)", len(s))
}

// Value is the whole token, "id.secret": the credential itself, for a bootstrap kubeconfig, a
// Secret, or the operator who asked for it. Never log it.
func (t Token) Value() string { return t.ID + "." + t.Secret.Reveal() }

// IsZero reports whether t holds no token.
func (t Token) IsZero() bool { return t.ID == "" && t.Secret.IsZero() }

// String shows the token with its secret half redacted: "abcdef.<redacted>".
func (t Token) String() string {
	if t.IsZero() {
		return "<no token>"
	}
	return t.ID + "." + secret.Redacted
}

// GoString redacts like String, for %#v.
func (t Token) GoString() string { return "token.Token(" + t.String() + ")" }

// Format redacts for every verb, so that no format string reveals the secret.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, t.GoString())
		return
	}
	io.WriteString(f, t.String())
}

// LogValue redacts the token in log/slog records.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Validate checks what the API server and kubeadm require of a token: the id.secret form,
// known usages, and groups of the form system:bootstrappers:..., which only an authentication
// token may carry.
func (t *Token) Validate() error {
	if !IsValidID(t.ID) {
		return fmt.Errorf("%w: id %s: want [a-z0-9]{6}", ErrInvalid, Redact(t.ID))
	}
	if !tokenRE.MatchString(t.Value()) {
		return fmt.Errorf("bootstrap token %s: %w: the secret is not of the form [a-z0-9]{16}", t.ID, ErrInvalid)
	}
	if len(t.Usages) == 0 {
		return fmt.Errorf("bootstrap token %s: %w: no usages (want some of %s)", t.ID, ErrInvalid, strings.Join(KnownUsages, ", "))
	}
	for _, u := range t.Usages {
		if !slices.Contains(KnownUsages, u) {
			return fmt.Errorf("bootstrap token %s: %w: invalid bootstrap token usage string: %s, valid usage options: %s", t.ID, ErrInvalid, u, strings.Join(KnownUsages, ","))
		}
	}
	for _, g := range t.Groups {
		if !groupRE.MatchString(g) {
			return fmt.Errorf("bootstrap token %s: %w: bootstrap group %q is invalid (must match %s)", t.ID, ErrInvalid, g, groupRE)
		}
	}
	if len(t.Groups) > 0 && !slices.Contains(t.Usages, UsageAuthentication) {
		return fmt.Errorf("bootstrap token %s: %w: groups need the usage \"authentication\"", t.ID, ErrInvalid)
	}
	return nil
}

// Expired reports whether the token has stopped working at now, as the API server and the
// token cleaner judge it.
func (t *Token) Expired(now time.Time) bool {
	return t.Expires != nil && !now.Before(*t.Expires)
}
