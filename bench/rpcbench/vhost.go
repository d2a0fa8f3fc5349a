package main

import (
	"fmt"
	"math/rand/v2"

	amqp "github.com/rabbitmq/amqp091-go"
)

// benchVHost is the virtual host of the run: made once (rabbitmqctl takes
// seconds a call on a loaded machine), deleted at the end. Each scenario
// run has its own queue in it, deleted when the run ends.
var benchVHost string

// openVHost makes the run's virtual host.
func openVHost() error {
	vhost := fmt.Sprintf("rpcbench-%d", rand.IntN(1e9))
	if err := rabbitmqctl("add_vhost", vhost); err != nil {
		return err
	}
	benchVHost = vhost
	return rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
}

// closeVHost deletes the run's virtual host, if made.
func closeVHost() {
	if benchVHost != "" {
		_ = rabbitmqctl("delete_vhost", benchVHost)
		benchVHost = ""
	}
}

// deleteQueue deletes a scenario run's queue once its server stopped, so
// that the next run starts from an empty virtual host.
func deleteQueue(vhost, queue string) error {
	conn, err := amqp.Dial("amqp://guest:guest@127.0.0.1:5672/" + vhost)
	if err != nil {
		return fmt.Errorf("delete queue %s: %w", queue, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("delete queue %s: %w", queue, err)
	}
	if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
		return fmt.Errorf("delete queue %s: %w", queue, err)
	}
	return nil
}
