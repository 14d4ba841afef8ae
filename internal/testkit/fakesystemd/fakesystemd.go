package fakesystemd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrNotFound is what starting a unit the fake does not know gives, as systemd answers for a
// unit without a unit file.
var ErrNotFound = errors.New("unit not found")

// StartFunc starts a unit; an error fails the start job. The unit keeps running after it
// returns (its processes or goroutines are the caller's to end).
type StartFunc func(ctx context.Context) error

// Systemd is a service manager whose units are functions. The zero value knows no unit.
type Systemd struct {
	mu     sync.Mutex
	units  map[string]StartFunc
	active map[string]bool
	starts []string
}

// New returns a service manager that knows units; a nil StartFunc starts nothing and succeeds.
func New(units map[string]StartFunc) *Systemd {
	return &Systemd{units: units, active: map[string]bool{}}
}

// Start runs unit's StartFunc, unless the unit is active already (a start job of an active
// unit does nothing), and marks it active when it succeeds.
func (s *Systemd) Start(ctx context.Context, unit string) error {
	s.mu.Lock()
	s.starts = append(s.starts, unit)
	start, known := s.units[unit]
	active := s.active[unit]
	s.mu.Unlock()
	if active {
		return nil
	}
	if !known {
		return fmt.Errorf("start %s: %w", unit, ErrNotFound)
	}
	if start != nil {
		if err := start(ctx); err != nil {
			return fmt.Errorf("start %s: systemd job failed: %w", unit, err)
		}
	}
	s.SetActive(unit)
	return nil
}

// Active reports whether unit was started (or set active).
func (s *Systemd) Active(_ context.Context, unit string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[unit], nil
}

// SetActive marks unit active without starting it: a unit an earlier boot left running.
func (s *Systemd) SetActive(unit string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		s.active = map[string]bool{}
	}
	s.active[unit] = true
}

// Starts lists the units Start was asked for, in order, failed ones included.
func (s *Systemd) Starts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.starts)
}
