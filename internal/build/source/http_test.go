package source

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPFetch(t *testing.T) {
	const body = "containerd release tarball"
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); ua != "kiln" {
			http.Error(w, "User-Agent "+ua, http.StatusBadRequest)
			return
		}
		w.Write([]byte(body))
	})
	mux.Handle("/moved", http.RedirectHandler("/ok", http.StatusFound))
	mux.Handle("/moved-away", http.RedirectHandler("/gone?X-Signature=secret", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		name, path string
		wantErr    []string // parts of the error; none: success
	}{
		{"200", "/ok", nil},
		{"redirect", "/moved", nil},
		{"404", "/missing", []string{"404 Not Found", srv.URL + "/missing"}},
		{"redirect to 404", "/moved-away", []string{"404 Not Found", srv.URL + "/moved-away", "redirected to " + srv.URL + "/gone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Parse(srv.URL+tc.path, testSHA, WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			err = src.Fetch(context.Background(), &got)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if got.String() != body {
					t.Errorf("body = %q, want %q", got.String(), body)
				}
				return
			}
			if !errors.Is(err, ErrHTTPStatus) {
				t.Fatalf("Fetch = %v, want ErrHTTPStatus", err)
			}
			for _, part := range tc.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not mention %q", err, part)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the redirect's query", err)
			}
		})
	}
}

func TestHTTPFetchCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	src, err := Parse(srv.URL+"/slow", testSHA, WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Fetch(ctx, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
}
