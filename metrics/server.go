package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Mux routes /metrics to the metrics of g and, when logLevel is not nil,
// /log-level to it.
func Mux(g prometheus.Gatherer, logLevel http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(g))
	if logLevel != nil {
		mux.Handle("/log-level", logLevel)
	}
	return mux
}

// Server is a metrics listener.
type Server struct {
	srv  *http.Server
	addr string
	done chan error
}

// Listen binds addr (host:port) and serves h there until Close.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	s := &Server{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address bound (its port chosen by the system when addr's was 0).
func (s *Server) Addr() string { return s.addr }

// Close stops the listener, letting scrapes under way finish for up to a second.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if e := <-s.done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
