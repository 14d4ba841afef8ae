package hostcontrolplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// healthPollInterval is the time between two health probes of a starting component.
const healthPollInterval = 300 * time.Millisecond

// waitHealthy polls pod's own probe until it answers 200 or ctx ends; the error then carries
// the tail of the component's log.
func (cp *ControlPlane) waitHealthy(ctx context.Context, pod *corev1.Pod) error {
	url := cp.healthURL(pod)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// The health endpoints of the controller manager and the scheduler serve self-signed
		// certificates; only the answer's status matters here.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // health probe on loopback
	}}
	defer client.CloseIdleConnections()
	start := time.Now()
	var last string
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cp.logf("%s healthy after %s", pod.Name, time.Since(start).Round(100*time.Millisecond))
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s (%w): last answer: %s\n--- last lines of %s ---\n%s",
				pod.Name, url, ctx.Err(), last, cp.logPath(pod.Name), tail(cp.logPath(pod.Name), 20))
		case <-time.After(healthPollInterval):
		}
	}
}

// healthURL is where a component is waited for: its own readiness probe (or liveness probe),
// with the port remapped.
func (cp *ControlPlane) healthURL(pod *corev1.Pod) string {
	c := pod.Spec.Containers[0]
	probe := c.ReadinessProbe
	if probe == nil {
		probe = c.LivenessProbe
	}
	port := int(c.Ports[0].ContainerPort)
	if p, ok := cp.ports[port]; ok {
		port = p
	}
	scheme := strings.ToLower(string(probe.HTTPGet.Scheme))
	return fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(probe.HTTPGet.Host, strconv.Itoa(port)), probe.HTTPGet.Path)
}
