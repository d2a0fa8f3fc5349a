package statuscheck

import (
	"context"
	"fmt"
	"strings"

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
			u.UnitFileState = strings.Trim(p.Value.String(), `"`)
		}
		if p, err := conn.GetUnitTypePropertyContext(ctx, s.Name, "Service", "StatusText"); err == nil {
			u.StatusText = strings.Trim(p.Value.String(), `"`)
		}
		units = append(units, u)
	}
	return units, nil
}
