package statuscheck

import (
	"context"
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/dbus"
)

// Pattern matches the consumer units.
const Pattern = "rabbitmq-consume@*.service"

// Discover lists the consumer units systemd has loaded (which includes the
// enabled ones: the target wants them), through systemd's D-Bus API.
func Discover(ctx context.Context) ([]Unit, error) {
	conn, err := dbus.NewWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over D-Bus: %w", err)
	}
	defer conn.Close()
	list, err := conn.ListUnitsByPatternsContext(ctx, nil, []string{Pattern})
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	units := make([]Unit, 0, len(list))
	for _, s := range list {
		if s.LoadState != "loaded" {
			continue
		}
		u := Unit{Name: s.Name, ActiveState: s.ActiveState, SubState: s.SubState}
		if p, err := conn.GetUnitPropertyContext(ctx, s.Name, "UnitFileState"); err == nil {
			u.UnitFileState, _ = p.Value.Value().(string)
		}
		if props, err := conn.GetUnitTypePropertiesContext(ctx, s.Name, "Service"); err == nil {
			serviceFacts(&u, props)
		}
		units = append(units, u)
	}
	return units, nil
}

// serviceFacts reads the Service properties the check uses.
func serviceFacts(u *Unit, props map[string]any) {
	u.StatusText, _ = props["StatusText"].(string)
	u.Restarts, _ = props["NRestarts"].(uint32)
	if usec, ok := props["ExecMainStartTimestamp"].(uint64); ok && usec > 0 {
		u.MainStarted = time.UnixMicro(int64(usec)).UTC()
	}
}
