// Package loopback has the servers VM tests run on the host's 127.0.0.1 for a guest to reach
// through a guest forward: a recording HTTP server and an EC2-style metadata service.
package loopback

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is an HTTP server on the host's loopback that a guest reaches through a guest
// forward to Port. It records every request as "METHOD PATH USER-AGENT".
type Server struct {
	Port     int
	mu       sync.Mutex
	requests []string
}

// Start serves h until the test ends.
func Start(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := &Server{}
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
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}
