package ignitionconfig

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	neturl "net/url"
	"slices"
	"strings"
)

// UserDataLimit is the user-data size many clouds accept (AWS EC2: 16 KiB). A larger config
// must be fetched from elsewhere, through a Pointer.
const UserDataLimit = 16 << 10

// pointerSchemes are the URL schemes Ignition fetches configs from.
var pointerSchemes = []string{"https", "http", "tftp", "s3", "gs"}

// Hash returns the verification hash Ignition checks a fetched config against:
// "sha512-<hex>".
func Hash(full []byte) string {
	sum := sha512.Sum512(full)
	return "sha512-" + hex.EncodeToString(sum[:])
}

// Pointer returns a small Ignition config that makes Ignition fetch the full config from url
// (http, https, tftp, s3, gs …) and merge it only when its SHA-512 matches full. The hash
// guards integrity, not secrecy: serve a control-plane config, which holds keys, over https to
// that node only.
func Pointer(full []byte, url string) ([]byte, error) {
	if url == "" {
		return nil, fmt.Errorf("%w: the pointer needs the URL the full config is served at", ErrOptions)
	}
	if u, err := neturl.Parse(url); err != nil || !slices.Contains(pointerSchemes, u.Scheme) || (u.Host == "" && u.Opaque == "") {
		return nil, fmt.Errorf("%w: pointer URL %q: want an absolute URL with a scheme Ignition fetches from (%s)", ErrOptions, url, strings.Join(pointerSchemes, ", "))
	}
	if _, err := parse(full); err != nil {
		return nil, fmt.Errorf("full config: %w", err)
	}
	src := url
	doc := butaneDoc{Variant: ButaneVariant, Version: ButaneVersion, Ignition: &butaneIgnition{}}
	doc.Ignition.Config.Merge = []butaneResource{{Source: &src, Verification: &butaneVerification{Hash: Hash(full)}}}
	out, err := translateKiln(doc)
	if err != nil {
		return nil, fmt.Errorf("pointer config for %s: %w", url, err)
	}
	return bytes.TrimSpace(out), nil
}
