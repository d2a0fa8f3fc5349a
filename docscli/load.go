package docscli

import (
	"fmt"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/contractdocs"
)

// load reads the handlers directory and, when named, the configuration.
func load(handlers, cfgPath string) (contractdocs.Input, error) {
	actions, problems, err := contractdocs.Load(handlers)
	if err != nil {
		return contractdocs.Input{}, err
	}
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return contractdocs.Input{}, fmt.Errorf("configuration: %w", err)
		}
		contractdocs.AddRoutes(actions, cfg)
	}
	return contractdocs.Input{HandlersDirectory: handlers, Actions: actions, Problems: problems}, nil
}
