package poll

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout marks a wait that ran out of time. Every timeout error of Until wraps it.
var ErrTimeout = errors.New("timed out")

// Schedule says how often to try and for how long.
type Schedule struct {
	// Interval is the time between the end of one try and the start of the next; with MaxInterval
	// it is the first interval.
	Interval time.Duration
	// MaxInterval, when above Interval, makes the interval double after each failed try up to it
	// (capped backoff).
	MaxInterval time.Duration
	// Timeout bounds the whole wait; 0 waits until the context ends.
	Timeout time.Duration
	// Progress, when set, hears how long the wait has lasted and the last try's error, after
	// a failed try once ProgressEvery has passed since the start or the last call: so that a
	// long wait says what it waits for.
	Progress func(waited time.Duration, last error)
	// ProgressEvery is the least time between two Progress calls; 0 means DefaultProgressEvery.
	ProgressEvery time.Duration
}

// DefaultProgressEvery is how often a long wait reports by default.
const DefaultProgressEvery = time.Minute

// Every returns a schedule that tries every interval until the context ends.
func Every(interval time.Duration) Schedule { return Schedule{Interval: interval} }

// Backoff returns a schedule whose interval starts at first and doubles up to max.
func Backoff(first, max time.Duration) Schedule {
	return Schedule{Interval: first, MaxInterval: max}
}

// Within returns s bounded by timeout.
func (s Schedule) Within(timeout time.Duration) Schedule {
	s.Timeout = timeout
	return s
}

// Reporting returns s with progress reports: f hears the time waited and the last answer about
// every interval (0: DefaultProgressEvery) while the wait goes on.
func (s Schedule) Reporting(every time.Duration, f func(waited time.Duration, last error)) Schedule {
	s.Progress, s.ProgressEvery = f, every
	return s
}

// TimeoutError is what Until returns when its timeout passed or its context ended before a try
// succeeded. It wraps ErrTimeout (or the context's error) and the last try's error.
type TimeoutError struct {
	// After is how long the wait lasted.
	After time.Duration
	// Last is the last try's error: what was still wrong. Nil when no try ran.
	Last error
	// cause is ErrTimeout, or the context's own error when the caller's context ended.
	cause error
}

func (e *TimeoutError) Error() string {
	what := "timed out"
	if !errors.Is(e.cause, ErrTimeout) {
		what = e.cause.Error()
	}
	msg := fmt.Sprintf("%s after %s", what, roundDuration(e.After))
	if e.Last != nil {
		msg += ": last answer: " + e.Last.Error()
	}
	return msg
}

// Unwrap makes errors.Is see ErrTimeout (or context.Canceled, context.DeadlineExceeded) and the
// last try's error.
func (e *TimeoutError) Unwrap() []error {
	if e.Last == nil {
		return []error{e.cause}
	}
	return []error{e.cause, e.Last}
}

// stopError marks a try's error as permanent.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

// Stop marks err as permanent: Until returns it (unwrapped from Stop) at once instead of trying
// again. Stop(nil) is nil.
func Stop(err error) error {
	if err == nil {
		return nil
	}
	return stopError{err}
}

// Until calls try until it returns nil, returns an error made with Stop, the schedule's timeout
// passes or ctx ends. It returns nil, the permanent error, or a *TimeoutError holding the last
// try's error. The first try runs at once.
func Until(ctx context.Context, s Schedule, try func(ctx context.Context) error) error {
	if s.Interval <= 0 {
		return fmt.Errorf("poll: interval %s is not positive", s.Interval)
	}
	start := time.Now()
	waitCtx := ctx
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	interval := s.Interval
	every := s.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	reported := start
	var last error
	for {
		err := try(waitCtx)
		if err == nil {
			return nil
		}
		if stop, ok := errors.AsType[stopError](err); ok {
			return stop.err
		}
		// A try cut short by the wait's own deadline says only that; keep the answer before it.
		if last == nil || waitCtx.Err() == nil {
			last = err
		}
		if now := time.Now(); s.Progress != nil && waitCtx.Err() == nil && now.Sub(reported) >= every {
			reported = now
			s.Progress(now.Sub(start), last)
		}
		timer := time.NewTimer(interval)
		select {
		case <-waitCtx.Done():
			timer.Stop()
			return timeoutError(ctx, start, last)
		case <-timer.C:
		}
		if s.MaxInterval > interval {
			interval = min(2*interval, s.MaxInterval)
		}
	}
}

// timeoutError says why the wait ended: its own timeout, or the caller's context.
func timeoutError(ctx context.Context, start time.Time, last error) error {
	cause := ErrTimeout
	if err := ctx.Err(); err != nil {
		cause = err
	}
	return &TimeoutError{After: time.Since(start), Last: last, cause: cause}
}

// roundDuration shows a wait's length to the tenth of a second, or whole seconds from a minute.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
