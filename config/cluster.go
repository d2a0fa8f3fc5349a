package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Queue types of virtual_hosts.<vhost>.queue_type.
const (
	// QueueClassic is a classic queue on one broker node, as the reference
	// consumer declares it.
	QueueClassic = "classic"
	// QueueQuorum is a replicated quorum queue, with a delivery limit and
	// a dead-letter queue.
	QueueQuorum = "quorum"
)

// DefaultDeliveryLimit is how many times a request on a quorum queue is
// delivered, by default, before it is dead-lettered.
const DefaultDeliveryLimit = 20

// DefaultRetryLimit is how many times a request is published again when
// its handler keeps asking to retry later; then its caller gets the
// unexpected error.
const DefaultRetryLimit = 5

// DeadLetterSuffix names a quorum queue's dead-letter queue by default:
// the queue's name and this suffix.
const DeadLetterSuffix = ".dead"

// Quorum reports whether the virtual host's queue is a quorum queue.
func (v VirtualHost) Quorum() bool { return v.QueueType == QueueQuorum }

// completeQueueType checks queue_type, delivery_limit and
// dead_letter_queue, and fills their defaults.
func completeQueueType(vh *VirtualHost, key string, fail func(key, msg string) error) error {
	switch vh.QueueType {
	case "":
		vh.QueueType = QueueClassic
	case QueueClassic, QueueQuorum:
	default:
		return fail(key+".queue_type", fmt.Sprintf("%q is not a queue type (classic, quorum)", vh.QueueType))
	}
	if !vh.Quorum() {
		if vh.DeliveryLimit != 0 {
			return fail(key+".delivery_limit", "needs queue_type: quorum (a classic queue has no delivery limit)")
		}
		if vh.DeadLetterQueue != "" {
			return fail(key+".dead_letter_queue", "needs queue_type: quorum (only a quorum queue dead-letters requests over their delivery limit)")
		}
		return nil
	}
	if vh.DeliveryLimit == 0 {
		vh.DeliveryLimit = DefaultDeliveryLimit
	}
	if vh.DeliveryLimit < 1 {
		return fail(key+".delivery_limit", fmt.Sprintf("%d is not a number of deliveries (1 or more)", vh.DeliveryLimit))
	}
	if vh.DeadLetterQueue == "" {
		vh.DeadLetterQueue = vh.Queue + DeadLetterSuffix
	}
	if vh.DeadLetterQueue == vh.Queue {
		return fail(key+".dead_letter_queue", fmt.Sprintf("%q is the queue itself: dead letters need a queue of their own", vh.DeadLetterQueue))
	}
	return nil
}

// completeHosts checks server.hosts, once server.port has its default.
// With it set, server.host must not be (hostSet): Host and Port become the first node's, for the programs that
// connect to one node only (rabbitmq-rpc).
func (s *Server) completeHosts(hostSet bool, fail func(key, msg string) error) error {
	if len(s.Hosts) == 0 {
		return nil
	}
	if hostSet {
		return fail("server.hosts", "set server.host or server.hosts, not both (server.hosts lists every node, server.host included)")
	}
	s.nodesPort = s.Port
	for i, h := range s.Hosts {
		host, port, err := splitHost(h)
		if err != nil {
			return fail("server.hosts", fmt.Sprintf("entry %d, %q: %v", i+1, h, err))
		}
		if i == 0 {
			s.Host = host
			if port != 0 {
				s.Port = port
			}
		}
	}
	return nil
}

// Addresses are the broker nodes to connect to, as host:port, in the
// order they are tried: every server.hosts entry (with server.port where
// it names none), or server.host and server.port.
func (s Server) Addresses() []string {
	if len(s.Hosts) == 0 {
		return []string{net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	}
	out := make([]string, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		host, port, _ := splitHost(h) // checked by Load
		if port == 0 {
			port = s.Port
			if s.nodesPort != 0 {
				port = s.nodesPort
			}
		}
		out = append(out, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return out
}

// splitHost splits "host", "host:port", "[v6]:port" or a bare IPv6
// address; port 0 when none is given.
func splitHost(h string) (string, int, error) {
	if h == "" {
		return "", 0, fmt.Errorf("empty host name")
	}
	host, p, err := net.SplitHostPort(h)
	if err != nil {
		if strings.Count(h, ":") > 1 && !strings.Contains(h, "[") {
			return h, 0, nil // a bare IPv6 address
		}
		if strings.Contains(h, ":") {
			return "", 0, fmt.Errorf("not host or host:port")
		}
		return h, 0, nil
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("not host or host:port (port 1..65535)")
	}
	return host, port, nil
}
