// Package envexpand expands ${VAR} in paths written in kiln's files, the one way every file does
// it: an unset variable is an error, never an empty string, except KILN_CACHE, which defaults to
// ~/.cache/kiln as it does for the Makefile.
package envexpand

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CacheVar is the variable naming kiln's cache directory.
const CacheVar = "KILN_CACHE"

// DefaultCache is $KILN_CACHE, or ~/.cache/kiln.
func DefaultCache() (string, error) {
	if c := os.Getenv(CacheVar); c != "" {
		return c, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the kiln cache: set %s: %w", CacheVar, err)
	}
	return filepath.Join(home, ".cache", "kiln"), nil
}

// Expand replaces $VAR and ${VAR} in s with lookup's values.
func Expand(s string, lookup func(string) (string, bool)) (string, error) {
	var missing []string
	out := os.Expand(s, func(v string) string {
		if val, ok := lookup(v); ok {
			return val
		}
		if v == CacheVar {
			if home, err := os.UserHomeDir(); err == nil {
				return filepath.Join(home, ".cache", "kiln")
			}
		}
		missing = append(missing, v)
		return ""
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}
