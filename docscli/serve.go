package docscli

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contractdocs"
)

// DefaultListen is where serve listens unless told.
const DefaultListen = "127.0.0.1:8080"

func (m *app) serveCommand(c *command) {
	handlers := handlersFlag(c.flags)
	listen := c.flags.String("listen", DefaultListen, "the `address` to listen on, host:port")
	cfgPath := configFlag(c.flags)
	c.run = func(args []string) int {
		if st, done := m.parse(c, args); done {
			return st
		}
		if c.flags.NArg() > 0 {
			return m.usage("serve: unexpected arguments: %v", c.flags.Args())
		}
		site, err := m.site(*handlers, *cfgPath)
		if err != nil {
			return m.fail("%v", err)
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return m.fail("listen: %v", err)
		}
		srv := contractdocs.NewServer(site)
		hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
		hups := make(chan os.Signal, 1)
		signal.Notify(hups, syscall.SIGHUP)
		defer signal.Stop(hups)
		go func() {
			for {
				select {
				case <-hups:
					m.reload(srv, *handlers, *cfgPath)
				case <-m.ctx.Done():
					return
				}
			}
		}()
		served := make(chan error, 1)
		go func() { served <- hs.Serve(ln) }()
		m.infof("serving the docs of %s on http://%s/", *handlers, ln.Addr())
		_, _ = daemon.SdNotify(false, daemon.SdNotifyReady)
		if m.ready != nil {
			m.ready(ln.Addr().String())
		}
		select {
		case err := <-served:
			return m.fail("serve: %v", err)
		case <-m.ctx.Done():
		}
		_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
		if err := hs.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return m.fail("stop: %v", err)
		}
		<-served
		return ExitOK
	}
}

// site reads the contracts and renders the site; each refused contract
// is logged.
func (m *app) site(handlers, cfgPath string) (contractdocs.Site, error) {
	in, err := load(handlers, cfgPath)
	if err != nil {
		return nil, err
	}
	for _, p := range in.Problems {
		m.infof("left out: %v", p)
	}
	return contractdocs.Build(in)
}

// reload reads the handlers again (SIGHUP): the old site stays when that
// fails.
func (m *app) reload(srv *contractdocs.Server, handlers, cfgPath string) {
	_, _ = daemon.SdNotify(false, daemon.SdNotifyReloading)
	defer func() { _, _ = daemon.SdNotify(false, daemon.SdNotifyReady) }()
	site, err := m.site(handlers, cfgPath)
	if err != nil {
		m.infof("reload failed, still serving the previous docs: %v", err)
		return
	}
	srv.Replace(site)
	m.infof("reloaded the docs of %s", handlers)
}
