// Package netcheck checks, from inside a pod, what a working pod network gives every pod: the
// cluster DNS resolves kubernetes.default to the API's Service IP, and the API answers over
// TLS at that IP, as the pod's service-account CA expects. "kiln-agent netcheck" runs it; kiln's
// cluster test runs that in a pod on a worker (the binary comes from the node, mounted into a
// pod of the baked pause image, so nothing is pulled).
package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ServiceAccountDir is where kubelet mounts a pod's service-account token and CA.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Result is what the check saw.
type Result struct {
	Name       string   // the name resolved
	Addresses  []string // what it resolved to
	ServiceIP  string   // KUBERNETES_SERVICE_HOST
	APIVersion string   // the API server's gitVersion, read through ServiceIP
}

// Run resolves name (the pod's resolv.conf supplies the search domains) and expects the
// Service IP among the answers, then reads /version from the API at the Service IP.
func Run(ctx context.Context, name string, w io.Writer) (*Result, error) {
	r := &Result{Name: name, ServiceIP: os.Getenv("KUBERNETES_SERVICE_HOST")}
	if r.ServiceIP == "" {
		return nil, fmt.Errorf("KUBERNETES_SERVICE_HOST is not set: run this inside a pod")
	}
	resolver := &net.Resolver{PreferGo: true}
	addrs, err := resolver.LookupHost(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, err)
	}
	r.Addresses = addrs
	fmt.Fprintf(w, "netcheck: %s resolves to %s\n", name, strings.Join(addrs, ", "))
	found := false
	for _, a := range addrs {
		found = found || a == r.ServiceIP
	}
	if !found {
		return r, fmt.Errorf("%s resolves to %v, not to the API's Service IP %s", name, addrs, r.ServiceIP)
	}
	caPEM, err := os.ReadFile(filepath.Join(ServiceAccountDir, "ca.crt"))
	if err != nil {
		return r, fmt.Errorf("service-account CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return r, fmt.Errorf("service-account CA: no certificate in %s/ca.crt", ServiceAccountDir)
	}
	port := os.Getenv("KUBERNETES_SERVICE_PORT")
	if port == "" {
		port = "443"
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           nil,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "kubernetes.default.svc"},
	}}
	url := "https://" + net.JoinHostPort(r.ServiceIP, port) + "/version"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return r, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	r.APIVersion = gitVersion(body)
	fmt.Fprintf(w, "netcheck: the API at %s answers: Kubernetes %s\n", url, r.APIVersion)
	return r, nil
}

// gitVersion picks "gitVersion" out of /version without a JSON dependency on the API types.
func gitVersion(body []byte) string {
	s := string(body)
	i := strings.Index(s, `"gitVersion"`)
	if i < 0 {
		return "?"
	}
	s = s[i+len(`"gitVersion"`):]
	s = s[strings.Index(s, `"`)+1:]
	if j := strings.Index(s, `"`); j >= 0 {
		return s[:j]
	}
	return "?"
}
