package nodeconfig

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/kilnproject/kiln/internal/cluster/token"
)

// Token is a bootstrap token "id.secret" on its way to the kubelet. However it is printed or
// logged it shows only "id.<redacted>"; Value returns the credential itself.
type Token struct {
	id, secret string
}

// ParseToken checks that s has the form [a-z0-9]{6}.[a-z0-9]{16}. Its error never contains the
// secret.
func ParseToken(s string) (Token, error) {
	id, secret, err := token.Parse(s)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Token{id: id, secret: secret}, nil
}

// ID is the public half of the token.
func (t Token) ID() string { return t.id }

// Value is the whole token, "id.secret": a credential, for the bootstrap kubeconfig only.
func (t Token) Value() string { return t.id + "." + t.secret }

// IsZero reports whether t holds no token.
func (t Token) IsZero() bool { return t.id == "" && t.secret == "" }

// String shows the token with its secret half redacted.
func (t Token) String() string {
	if t.IsZero() {
		return "<no token>"
	}
	return t.id + ".<redacted>"
}

// GoString redacts like String, for %#v.
func (t Token) GoString() string { return "nodeconfig.Token(" + t.String() + ")" }

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
