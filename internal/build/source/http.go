package source

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// HTTP is a file downloaded over http(s): a release binary or tarball.
type HTTP struct {
	URL    string
	client *http.Client
}

func parseHTTP(spec string, client *http.Client) (*HTTP, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", spec, ErrInvalidSpec, err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: %w: the URL names no host", spec, ErrInvalidSpec)
	}
	return &HTTP{URL: spec, client: client}, nil
}

// String returns the URL.
func (h *HTTP) String() string { return h.URL }

// Kind returns KindHTTP.
func (h *HTTP) Kind() Kind { return KindHTTP }

// Fetch GETs the URL, following redirects, and copies the body to w. A status other than 2xx
// is an ErrHTTPStatus error naming the status and the URL.
func (h *HTTP) Fetch(ctx context.Context, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", h.URL, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	client := h.client
	if client == nil {
		client = defaultClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		where := h.URL
		if final := *resp.Request.URL; final.String() != h.URL {
			final.RawQuery = "" // a redirect's query often carries a signature
			where += " (redirected to " + final.Redacted() + ")"
		}
		return fmt.Errorf("GET %s: %w: %s", where, ErrHTTPStatus, resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("GET %s: %w", h.URL, err)
	}
	return nil
}
