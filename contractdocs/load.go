package contractdocs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
)

// ContractFile is the name of a handler's contract in its directory.
const ContractFile = "contract.json"

// Load reads the contract of every handler in the handlers directory
// (<dir>/<exchange>/contract.json) and compiles it as the consumer does:
// the docs show only what the consumer would accept. A contract that fails
// is left out and named in problems; err is for a directory that cannot be
// read.
func Load(dir string) (actions []Action, problems []error, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read the handlers directory: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name(), ContractFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue // not a handler's directory
		}
		a, err := loadOne(e.Name(), path)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", path, err))
			continue
		}
		actions = append(actions, a)
	}
	SortActions(actions)
	return actions, problems, nil
}

func loadOne(exchange, path string) (Action, error) {
	c, err := contract.Load(path)
	if err != nil {
		return Action{}, err
	}
	if _, err := contract.Compile(exchange, c); err != nil {
		return Action{}, err
	}
	return FromContract(exchange, c), nil
}

// FromContract is the action an exchange's contract describes.
func FromContract(exchange string, c *contract.Contract) Action {
	mode := c.Mode
	if mode == "" {
		mode = contract.ModeOneShot
	}
	a := Action{
		Exchange: exchange, Description: c.Description, LockAttribute: c.LockAttribute,
		Timeout: c.Timeout(), Mode: mode, FormatAssertion: c.FormatAssertion,
		Request: c.Request, Response: c.Response,
	}
	for _, ex := range c.Examples {
		a.Examples = append(a.Examples, Example{Request: ex.Request, Response: ex.Response})
	}
	return a
}

// AddRoutes fills in which virtual hosts of the consumers' configuration
// serve each action.
func AddRoutes(actions []Action, cfg *config.Config) {
	vhosts := make([]string, 0, len(cfg.VirtualHosts))
	for name := range cfg.VirtualHosts {
		vhosts = append(vhosts, name)
	}
	sort.Strings(vhosts)
	for i := range actions {
		actions[i].Served = nil
		for _, name := range vhosts {
			vh := cfg.VirtualHosts[name]
			if _, ok := vh.Exchanges[actions[i].Exchange]; ok {
				actions[i].Served = append(actions[i].Served, Route{VirtualHost: name, Queue: vh.Queue, Fernet: len(vh.DecryptionKeys()) > 0})
			}
		}
	}
}
