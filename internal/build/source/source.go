package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A Source yields one artifact's bytes.
type Source interface {
	// String names the source for messages and the lock file: the path, URL or image reference.
	String() string
	// Kind says which of the three kinds of source this is.
	Kind() Kind
	// Fetch writes the artifact's content to w and returns nothing else; the caller hashes.
	Fetch(ctx context.Context, w io.Writer) error
}

// Kind is the kind of a Source, as the lock file records it.
type Kind string

// The kinds of Source.
const (
	KindFile Kind = "file"
	KindHTTP Kind = "http"
	KindOCI  Kind = "oci"
)

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return k == KindFile || k == KindHTTP || k == KindOCI }

// UserAgent is the User-Agent of every request a Source makes.
const UserAgent = "kiln"

// DefaultResponseHeaderTimeout bounds the wait for a server's response headers; the body may
// take as long as the context allows.
const DefaultResponseHeaderTimeout = time.Minute

// Errors callers branch on.
var (
	// ErrInvalidSpec marks a spec or sha256 Parse cannot accept.
	ErrInvalidSpec = errors.New("invalid artifact source")
	// ErrHTTPStatus marks an HTTP response whose status is not 2xx.
	ErrHTTPStatus = errors.New("unexpected HTTP status")
	// ErrDigestMismatch marks an image whose manifest digest is not the one its reference pins.
	ErrDigestMismatch = errors.New("image digest mismatch")
)

// DefaultPlatform is the platform an OCI source selects from a multi-arch index.
var DefaultPlatform = v1.Platform{OS: "linux", Architecture: "amd64"}

// options configure the sources Parse returns.
type options struct {
	client   *http.Client
	platform v1.Platform
}

// An Option configures Parse.
type Option func(*options)

// WithHTTPClient makes HTTP sources use c, and OCI sources use c's Transport (for a test
// server's TLS configuration, say).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithPlatform makes OCI sources select p instead of DefaultPlatform.
func WithPlatform(p v1.Platform) Option { return func(o *options) { o.platform = p } }

func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	return &http.Client{Transport: t}
}

// Parse turns a spec into a Source:
//
//	file:///abs/path, /abs/path, rel/path   a local file (a relative path is relative to the
//	                                        working directory when fetched)
//	http://…, https://…                     a download; sha256hex is required
//	oci://registry/repo:tag                 a registry image
//	oci://registry/repo[:tag]@sha256:…      a registry image pinned by manifest digest
//
// sha256hex, when given, must be 64 hex digits; Parse only checks its presence and form, the
// artifact store checks the content.
func Parse(spec, sha256hex string, opts ...Option) (Source, error) {
	o := options{platform: DefaultPlatform}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		o.client = defaultClient()
	}
	if sha256hex != "" && !ValidSHA256(sha256hex) {
		return nil, fmt.Errorf("%s: %w: sha256 %q is not 64 lowercase hex digits", spec, ErrInvalidSpec, sha256hex)
	}
	scheme, rest, hasScheme := strings.Cut(spec, "://")
	switch {
	case spec == "":
		return nil, fmt.Errorf("%w: empty spec", ErrInvalidSpec)
	case !hasScheme:
		return &File{Path: filepath.Clean(spec)}, nil
	case scheme == "file":
		return parseFileURL(spec)
	case scheme == "http" || scheme == "https":
		if sha256hex == "" {
			return nil, fmt.Errorf("%s: %w: a URL needs a sha256", spec, ErrInvalidSpec)
		}
		return parseHTTP(spec, o.client)
	case scheme == "oci":
		return parseOCI(rest, o)
	default:
		return nil, fmt.Errorf("%s: %w: unknown scheme %q (want file, http, https or oci)", spec, ErrInvalidSpec, scheme)
	}
}

// ValidSHA256 reports whether s is a sha256 in lowercase hex, as the lock file records it.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NeedsSHA256 reports whether src's content is only pinned by a sha256 the caller gives: true
// for URLs and images named by tag alone; false for local files (the lock records what is
// there) and for images pinned by digest (the digest fixes every byte of the archive).
func NeedsSHA256(src Source) bool {
	switch s := src.(type) {
	case *File:
		return false
	case *OCI:
		return s.pinned == ""
	}
	return true
}

// ctxReader fails a long copy once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
