package consumer

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

// route is one exchange with its handler and compiled contract.
type route struct {
	exchange string
	handler  handler.Handler
	contract *contract.Compiled
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
func loadRoutes(dir string, exchanges []string, goHandlers map[string]handler.Handler, mock bool) (map[string]*route, error) {
	routes := make(map[string]*route, len(exchanges))
	sort.Strings(exchanges)
	for _, ex := range exchanges {
		h, ok := goHandlers[ex]
		if !ok {
			e, err := handler.LoadExec(filepath.Join(dir, ex), !mock)
			if err != nil {
				return nil, &RouteError{Exchange: ex, Err: err}
			}
			h = e
		}
		c, err := contract.Compile(ex, h.Contract())
		if err != nil {
			where := "Go handler"
			if e, ok := h.(*handler.Exec); ok { // a Pool is made later, from an Exec
				where = filepath.Join(e.Dir, "contract.json")
			}
			return nil, &RouteError{Exchange: ex, Err: fmt.Errorf("%s: %w", where, err)}
		}
		routes[ex] = &route{exchange: ex, handler: h, contract: c}
	}
	return routes, nil
}

// openPools gives every exchange whose executable handler's contract asks
// for persistent processes a Pool of at most max processes, started: its
// warm process must pass the handshake, or the exchange has no usable
// handler.
func openPools(routes map[string]*route, vhost string, max int, backoff Backoff, log zerolog.Logger, m *metrics.Consumer) error {
	exchanges := make([]string, 0, len(routes))
	for ex := range routes {
		exchanges = append(exchanges, ex)
	}
	sort.Strings(exchanges)
	var opened []*handler.Pool
	for _, ex := range exchanges {
		rt := routes[ex]
		e, ok := rt.handler.(*handler.Exec)
		if !ok || !e.Contract().Persistent() {
			continue
		}
		pl := handler.NewPool(e, vhost, ex, max, func(failures int) time.Duration { return backoff.Delay(failures, nil) }, log)
		if o := m.Exchange(ex); o != nil {
			pl.Observe(o)
		}
		if err := pl.Open(); err != nil {
			for _, o := range opened {
				_ = o.Close()
			}
			return &RouteError{Exchange: ex, Err: fmt.Errorf("%s: %w", e.Path, err)}
		}
		opened = append(opened, pl)
		rt.handler = pl
	}
	return nil
}
