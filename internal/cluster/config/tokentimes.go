package config

import (
	"fmt"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/cluster/token"
)

// CheckTokenTimes checks the ttl and expires of each entry of doc's bootstrapTokens (an
// InitConfiguration, or a cluster directory's tokens.yaml) before strict decoding does: the
// decoder's errors quote the bad value, and a token pasted there is a credential. Its errors name
// the field and describe the value with token.Redact. Anything else is left to the decoder.
func CheckTokenTimes(doc []byte) error {
	var loose struct {
		BootstrapTokens []map[string]any `json:"bootstrapTokens"`
	}
	if yaml.Unmarshal(doc, &loose) != nil {
		return nil // the strict decoder says what is wrong, without quoting values
	}
	for i, bt := range loose.BootstrapTokens {
		if s, ok := bt["ttl"].(string); ok {
			if _, err := time.ParseDuration(s); err != nil {
				return fmt.Errorf("%w: bootstrapTokens[%d].ttl: %s is not a duration such as 24h", ErrInvalid, i, token.Redact(s))
			}
		}
		if s, ok := bt["expires"].(string); ok {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return fmt.Errorf("%w: bootstrapTokens[%d].expires: %s is not a time such as 2030-01-02T15:04:05Z", ErrInvalid, i, token.Redact(s))
			}
		}
	}
	return nil
}
