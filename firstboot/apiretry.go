package firstboot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/kilnproject/kiln/internal/common/poll"
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
	// next mirrors the schedule's interval, for the console line that announces it.
	next, attempt := apiRetryMin, 0
	err := poll.Until(ctx, poll.Backoff(apiRetryMin, apiRetryMax).Within(window), func(ctx context.Context) error {
		attempt++
		err := call(ctx)
		if err == nil || !transientAPIError(err) {
			return poll.Stop(err)
		}
		if ctx.Err() == nil {
			n.report(slog.LevelWarn, fmt.Sprintf("[%s] attempt %d: the API server did not answer: %v; trying again in %s", prefix, attempt, err, next),
				"API call failed", "phase", prefix, "attempt", attempt, "error", err.Error(), "retry_in", next.String())
		}
		next = min(2*next, apiRetryMax)
		return err
	})
	if _, ok := errors.AsType[*poll.TimeoutError](err); ok {
		return fmt.Errorf("the API server did not answer%s: %w", within(window), err)
	}
	return err
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
