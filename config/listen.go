package config

import (
	"fmt"
	"net"
	"sort"
	"strconv"
)

// checkListen checks a metrics_listen value: host:port, the host an IP
// address or a name, the port 1..65535.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:9420)", addr)
	}
	if host == "" {
		return fmt.Errorf("%q names no host: give one (127.0.0.1 keeps the metrics on this host)", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: port %q is not a port number (1..65535)", addr, port)
	}
	return nil
}

// vhostNames are the virtual hosts' names, sorted.
func (c *Config) vhostNames() []string {
	names := make([]string, 0, len(c.VirtualHosts))
	for n := range c.VirtualHosts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
