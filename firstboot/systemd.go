package firstboot

import (
	"context"
	"fmt"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
)

// Systemd is what the agent asks of the service manager.
type Systemd interface {
	// Start starts a unit and waits for systemd's job result.
	Start(ctx context.Context, unit string) error
	// Active reports whether a unit is active.
	Active(ctx context.Context, unit string) (bool, error)
}

// DBusSystemd talks to systemd over the system bus.
type DBusSystemd struct{}

// Start starts unit with the job mode ignore-dependencies: kubelet.service is ordered after
// kiln-firstboot.service, whose start job is still running while the agent starts kubelet, so
// a job that honoured the ordering would wait for the agent that waits for it.
func (DBusSystemd) Start(ctx context.Context, unit string) error {
	conn, err := sddbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return fmt.Errorf("connect to systemd: %w", err)
	}
	defer conn.Close()
	done := make(chan string, 1)
	if _, err := conn.StartUnitContext(ctx, unit, "ignore-dependencies", done); err != nil {
		return fmt.Errorf("start %s: %w", unit, err)
	}
	select {
	case result := <-done:
		if result != "done" {
			return fmt.Errorf("start %s: systemd job %s (journalctl -u %s tells why)", unit, result, unit)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("start %s: %w", unit, ctx.Err())
	}
}

// Active reports whether unit's ActiveState is "active".
func (DBusSystemd) Active(ctx context.Context, unit string) (bool, error) {
	conn, err := sddbus.NewSystemConnectionContext(ctx)
	if err != nil {
		return false, fmt.Errorf("connect to systemd: %w", err)
	}
	defer conn.Close()
	p, err := conn.GetUnitPropertyContext(ctx, unit, "ActiveState")
	if err != nil {
		return false, fmt.Errorf("state of %s: %w", unit, err)
	}
	return p.Value.Value() == "active", nil
}
