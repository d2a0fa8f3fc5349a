package consumer

import (
	"fmt"
	"path/filepath"
	"sort"
)

// route is one exchange with its handler and compiled contract.
type route struct {
	exchange string
	handler  Handler
	*compiled
}

// RouteError is a handler or contract that cannot serve an exchange.
type RouteError struct {
	// Exchange is the exchange that has no usable handler.
	Exchange string
	// Err says why.
	Err error
}

func (e *RouteError) Error() string {
	return fmt.Sprintf("exchange %s: %v", e.Exchange, e.Err)
}

func (e *RouteError) Unwrap() error { return e.Err }

// loadRoutes finds and checks the handler of every exchange: a Go handler
// registered for it, else the executable handler in dir/<exchange>.
func loadRoutes(dir string, exchanges []string, goHandlers map[string]Handler, mock bool) (map[string]*route, error) {
	routes := make(map[string]*route, len(exchanges))
	sort.Strings(exchanges)
	for _, ex := range exchanges {
		h, ok := goHandlers[ex]
		if !ok {
			e, err := LoadExec(filepath.Join(dir, ex), !mock)
			if err != nil {
				return nil, &RouteError{Exchange: ex, Err: err}
			}
			h = e
		}
		c, err := compile(ex, h.Contract())
		if err != nil {
			where := "Go handler"
			if e, ok := h.(*Exec); ok {
				where = filepath.Join(e.Dir, "contract.json")
			}
			return nil, &RouteError{Exchange: ex, Err: fmt.Errorf("%s: %w", where, err)}
		}
		routes[ex] = &route{exchange: ex, handler: h, compiled: c}
	}
	return routes, nil
}
