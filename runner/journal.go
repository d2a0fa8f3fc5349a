package runner

import (
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/consumer"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
)

// openJournal opens the virtual host's log spool when a log server is
// configured; rabbitmq-consumer-logship ships it.
func openJournal(cfg *config.Config, vhost string) (consumer.Journal, func(), error) {
	if cfg.LogServer == nil {
		return nil, func() {}, nil
	}
	s, err := logship.OpenSpool(cfg.SpoolDirectory, vhost, logship.SpoolOptions{})
	if err != nil {
		return nil, nil, err
	}
	return s, func() { _ = s.Close() }, nil
}
