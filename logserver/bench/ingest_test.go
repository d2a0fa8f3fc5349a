package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
)

// ingestVHosts is the number of virtual hosts in the backlog: the shipper
// ships each on its own.
const ingestVHosts = 4

// spoolBacklog writes pairs request/response pairs per virtual host.
func spoolBacklog(b *testing.B, root string, pairs int) {
	b.Helper()
	for v := 0; v < ingestVHosts; v++ {
		vhost := fmt.Sprintf("vh%d", v)
		s, err := logship.OpenSpool(root, vhost, logship.SpoolOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < pairs; i++ {
			id := fmt.Sprintf("%s-%08d-4000-8000-bench", vhost, i)
			if err := s.Append(logship.Record{Kind: logship.KindRequest, CorrelationID: id,
				RequestPayload:  json.RawMessage(fmt.Sprintf(`{"tree":"oak","n":%d,"password":"*****"}`, i)),
				VirtualHostName: vhost, QueueName: "q", RabbitMQUsername: "guest", Hostname: "h1", ExchangeName: "dx_tree"}); err != nil {
				b.Fatal(err)
			}
			if err := s.Append(logship.Record{Kind: logship.KindResponse, CorrelationID: id,
				ResponsePayload: json.RawMessage(`{"success":true,"message":"planted","data":{"id":1}}`)}); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngest ships a backlog through the real shipper into the log
// server (SQLite): records/s and the server's peak RSS.
func BenchmarkIngest(b *testing.B) {
	bins := b.TempDir()
	serverBin, shipBin := build(b, bins, "rabbitmq-consumer-log-server"), build(b, bins, "rabbitmq-consumer-logship")
	const pairs = 12500 // per virtual host: 100,000 records in all
	for i := 0; i < b.N; i++ {
		dir, spool := b.TempDir(), b.TempDir()
		srv := newServer(b, serverBin, dir, "")
		srv.start(b)
		spoolBacklog(b, spool, pairs)
		cfg := filepath.Join(dir, "rabbitmq.yml")
		vhosts := ""
		for v := 0; v < ingestVHosts; v++ {
			vhosts += fmt.Sprintf("vh%d: {queue: q, exchanges: {dx_tree: {}}}, ", v)
		}
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("spool_directory: %s\nlog_server: {base_url: '%s', api_token: '%s'}\nvirtual_hosts: {%s}\n",
			spool, srv.baseURL(), token, vhosts)), 0o644); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		want := int64(2 * pairs * ingestVHosts)
		started := time.Now()
		ship := start(b, shipBin, "--config-file-path", cfg, "--poll", "20ms")
		deadline := time.Now().Add(10 * time.Minute)
		for srv.stored(ctx) < want {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d records stored after 10 minutes; shipper log:\n%s", srv.stored(ctx), want, ship.out.String())
			}
			time.Sleep(20 * time.Millisecond) // polling interval of a measurement, not synchronisation
		}
		took := time.Since(started)
		rate := float64(want) / took.Seconds()
		b.ReportMetric(rate, "records/s")
		// CPU per record tells the cost apart from the machine's load.
		srvCPU, shipCPU := srv.proc.cpuSeconds(), ship.cpuSeconds()
		fmt.Printf("logserver: ingest through the shipper (SQLite): %d records in %.1fs = %.0f records/s; server peak RSS %.1f MB; CPU per record: server %.0f µs, shipper %.0f µs\n",
			want, took.Seconds(), rate, srv.proc.peakRSS(), srvCPU/float64(want)*1e6, shipCPU/float64(want)*1e6)
		ship.stop(b)
		srv.proc.stop(b)
	}
}
