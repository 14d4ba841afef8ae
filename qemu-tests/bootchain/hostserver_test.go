package bootchain

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// hostServer is an HTTP server on the host's loopback that a guest reaches through a guest
// forward to Port. It records every request as "METHOD PATH USER-AGENT".
type hostServer struct {
	Port     int
	mu       sync.Mutex
	requests []string
}

// startHostServer serves h until the test ends.
func startHostServer(t *testing.T, h http.Handler) *hostServer {
	t.Helper()
	s := &hostServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path+" "+r.UserAgent())
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	port, err := strconv.Atoi(srv.URL[strings.LastIndex(srv.URL, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	s.Port = port
	return s
}

// Requests returns what the server has seen so far.
func (s *hostServer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}
