package firstboot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// API retry backoff: a control plane on a slow machine may restart its API server (its
// liveness probe) or answer late while init writes to it; the writes are idempotent, so the
// agent tries again, less and less often, within Timeouts.APIServerReady.
const (
	apiRetryMin = 2 * time.Second
	apiRetryMax = 30 * time.Second
)

// retryAPI runs call until it succeeds, fails with an error the API server would give again
// (forbidden, invalid, ...), or the API server has not answered for Timeouts.APIServerReady.
// Each retry is a console line under prefix.
func retryAPI(ctx context.Context, n *Node, prefix string, call func(context.Context) error) error {
	window := n.Timeouts.apiServerReady()
	ctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	backoff := apiRetryMin
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil || !transientAPIError(err) {
			return err
		}
		if ctx.Err() == nil {
			n.say("[%s] attempt %d: the API server did not answer: %v; trying again in %s", prefix, attempt, err, backoff)
			n.Log.Warn("API call failed", "phase", prefix, "attempt", attempt, "error", err.Error(), "retry_in", backoff.String())
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: the API server did not answer within %s: %w", ErrTimeout, window, err)
		}
		backoff = min(2*backoff, apiRetryMax)
	}
}

// transientAPIError tells a request that did not reach a working API server (refused, reset,
// cut off, timed out, or answered 429/5xx) from an answer it would give again.
func transientAPIError(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		switch status.Status().Code {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
	}
	// Every transport error is a net.Error (url.Error), a bad certificate too: only its
	// timeouts count.
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}
