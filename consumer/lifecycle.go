package consumer

import "github.com/rabbitmq-consumer/rabbitmq-consumer/handler"

// pools lists the persistent handlers' pools.
func (c *Consumer) pools() []*handler.Pool {
	var out []*handler.Pool
	for _, rt := range c.routes {
		if pl, ok := rt.handler.(*handler.Pool); ok {
			out = append(out, pl)
		}
	}
	return out
}

// Reload replaces the processes of the persistent handlers without losing
// a request: new requests go to new processes, idle old ones end now (their
// stdin closed) and busy ones after their request. It is what SIGHUP does.
func (c *Consumer) Reload() {
	pools := c.pools()
	for _, pl := range pools {
		pl.Reload()
	}
	c.log.Info().Int("persistent_handlers", len(pools)).Msg("reload: persistent handler processes are being replaced")
}

// Close closes every handler (the processes of the persistent handlers
// that New started end, busy ones after their request, and are waited
// for), then the outcomes file New opened. Run closes when it returns; a
// consumer made by New and never run (as for --check) must be closed. It
// is safe to call more than once.
func (c *Consumer) Close() {
	c.closeOnce.Do(func() {
		for ex, rt := range c.routes {
			if err := rt.handler.Close(); err != nil {
				c.log.Error().Err(err).Str("exchange", ex).Msg("cannot close the handler")
			}
		}
		c.closeOutcomes()
	})
}

// closeOutcomes closes the outcomes file, if there is one.
func (c *Consumer) closeOutcomes() {
	if c.outcomes.store != nil {
		if err := c.outcomes.store.close(); err != nil {
			c.log.Error().Err(err).Msg("cannot close the outcomes file")
		}
	}
}
