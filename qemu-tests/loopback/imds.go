package loopback

import (
	"net/http"
	"strings"
	"sync"
)

// IMDSToken is the session token IMDS hands out.
const IMDSToken = "kiln-test-imds-session-token"

// IMDS is an EC2-style instance metadata service, version 2: a session token by PUT, then
// user data only with that token. It records every request as "METHOD PATH". A guest reaches
// it as 169.254.169.254:80 through a guest forward on a user network of 169.254.0.0/16.
type IMDS struct {
	UserData []byte
	mu       sync.Mutex
	requests []string
}

func (m *IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, r.Method+" "+r.URL.Path)
	m.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing TTL", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(IMDSToken))
	case r.Header.Get("X-aws-ec2-metadata-token") != IMDSToken:
		http.Error(w, "IMDSv2: no session token", http.StatusUnauthorized)
	case strings.HasSuffix(r.URL.Path, "/user-data"):
		_, _ = w.Write(m.UserData)
	case r.URL.Path == "/latest/meta-data/placement/region":
		_, _ = w.Write([]byte("kiln-test-1"))
	default:
		http.NotFound(w, r)
	}
}

// Requests returns what the service has seen so far.
func (m *IMDS) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// TokenBeforeUserData reports whether the requests fetched a session token first and then
// the user data, as IMDSv2 requires.
func TokenBeforeUserData(requests []string) bool {
	token, userData := -1, -1
	for i, r := range requests {
		if r == "PUT /latest/api/token" && token < 0 {
			token = i
		}
		if strings.HasPrefix(r, "GET ") && strings.HasSuffix(r, "/user-data") && userData < 0 {
			userData = i
		}
	}
	return token >= 0 && userData > token
}
