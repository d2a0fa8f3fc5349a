package statuscheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestReadBacklogFromTheShipper reads the backlog of a real spool through
// the shipper's metrics endpoint on a real socket.
func TestReadBacklogFromTheShipper(t *testing.T) {
	root := t.TempDir()
	for vhost, n := range map[string]int{"trees": 30, "small": 2} {
		sp, err := logship.OpenSpool(root, vhost, logship.SpoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			rec := logship.Record{Kind: logship.KindRequest, CorrelationID: fmt.Sprintf("%s-%d", vhost, i), RequestPayload: json.RawMessage(`{"n":1}`), VirtualHostName: vhost}
			if err := sp.Append(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Never run: nothing is shipped, everything is backlog.
	sh := logship.NewShipper(root, logship.ShipperOptions{BaseURL: "http://127.0.0.1:1/", Token: "t"})
	reg := metrics.NewRegistry()
	if err := metrics.RegisterShipper(reg, sh); err != nil {
		t.Fatal(err)
	}
	srv, err := metrics.Listen("127.0.0.1:0", metrics.Mux(reg, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	wantBytes, _ := sh.Backlog()
	if wantBytes == 0 {
		t.Fatal("the spool holds no backlog")
	}

	consumerPage := httptest.NewServer(metrics.Mux(metrics.NewRegistry(), nil))
	defer consumerPage.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name, addr string
		err        string
	}{
		{name: "shipper", addr: srv.Addr()},
		{name: "a URL", addr: "http://" + srv.Addr() + "/metrics"},
		{name: "nothing listening", addr: closed, err: "connection refused"},
		{name: "not found", addr: notFound.URL + "/metrics", err: "answered 404 Not Found"},
		{name: "not the shipper", addr: consumerPage.URL + "/metrics", err: "no rabbitmq_consumer_logship_backlog_bytes metric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			b := ReadBacklog(ctx, MetricsURL(tt.addr))
			if tt.err != "" {
				if !strings.Contains(b.Err, tt.err) {
					t.Fatalf("error = %q, want one containing %q", b.Err, tt.err)
				}
				return
			}
			if b.Err != "" || b.Bytes != wantBytes || b.Largest != "trees" {
				t.Fatalf("backlog = %+v, want %d bytes, most in trees", b, wantBytes)
			}
		})
	}
}
