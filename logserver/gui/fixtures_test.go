package gui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/memory"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// clock is a settable time source shared by the store and the GUI.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// base is when the first fixture request arrives; fixture n (from 1)
// arrives at at(n).
var base = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func at(n int) time.Time { return base.Add(time.Duration(n-1) * 97 * time.Second) }

// fixture is one pair; Response "" leaves it awaiting.
type fixture struct {
	Corr, VHost, Exchange, Host string
	Request                     string
	Response                    string
	Traceback                   string
	Took                        time.Duration
}

const xssPayload = `<script>alert('pwned')</script>`

const traceback = `Traceback (most recent call last):
  File "/usr/lib/rabbitmq-consumer/handlers/dx_delete_server/handler", line 41, in <module>
    main()
  File "/usr/lib/rabbitmq-consumer/handlers/dx_delete_server/handler", line 33, in main
    zone = inventory[request["server_id"]]["zone"]
KeyError: 'zone'`

// fixtures, oldest first (IDs 1..12). Outcomes: success 1 2 5 6 8 9 11;
// failure 3 7 10; error 4; awaiting 12.
var fixtures = []fixture{
	{"5e1d7a40-3c2b-4f8e-9a17-2d6c0b9e4f11", "trees", "dx_get_toleration", "consumer-01",
		`{"chance_percentage": 20, "favourite_food": "pears"}`,
		`{"success": true, "message": "Determined toleration", "data": {"tolerable": false}}`, "", 38 * time.Millisecond},
	{"9b0c4e2a-7d51-4a3f-b8e6-61f2c3d4a5b6", "servers", "dx_create_server", "consumer-02",
		`{"name": "web-17", "flavour": "m2.large", "root_password": "*****", "api_key": "*****", "ssh_keys": ["ssh-ed25519 AAAAC3Nz... ops@example.com"], "tags": {"team": "web", "tier": 2}}`,
		`{"success": true, "message": "Server created", "data": {"id": 48213, "ip_addresses": ["192.0.2.17", "2001:db8::17"], "status": "active"}}`, "", 4200 * time.Millisecond},
	{"e4a8f1c3-0b6d-4c92-8e57-3f9a1b2c7d04", "trees", "dx_get_toleration", "consumer-01",
		`{"chance_percentage": 140, "favourite_food": "pears"}`,
		`{"success": false, "message": "Request validation failed", "data": {"errors": [{"location": ["chance_percentage"], "message": "must be <= 100", "type": "maximum"}]}}`, "", 3 * time.Millisecond},
	{"1c7e3b9d-5a20-4e6f-a3c8-9d0b2e4f6a81", "servers", "dx_delete_server", "consumer-02",
		`{"server_id": 48177, "api_key": "*****", "options": {"wipe_disks": true, "notify": ["ops@example.com"], "grace_period_s": 300}}`,
		`{"success": false, "message": "An unexpected error occurred", "data": null}`, traceback, 212 * time.Millisecond},
	{"72d5c0e8-1f4a-4b3d-9e26-8a7c5d3b1f09", "trees", "dx_create_tree", "consumer-01",
		`{"species": "oak", "height_m": 3.5, "location": {"lat": 52.37, "lon": 4.89}}`,
		`{"success": true, "message": "Tree planted", "data": {"tree_id": "oak-8812"}}`, "", 91 * time.Millisecond},
	{"af39d2b6-8c1e-4d07-b5a4-0e6f8c2d9b73", "trees", "dx_get_toleration", "consumer-02",
		`{"chance_percentage": 75, "favourite_food": "plums"}`,
		`{"success": true, "message": "Determined toleration", "data": {"tolerable": true}}`, "", 27 * time.Millisecond},
	{"3d8b6f1a-2e94-4c5b-87d0-b1a9e3c5f720", "servers", "dx_delete_server", "consumer-01",
		`{"server_id": 48213, "force": false}`,
		`{"success": false, "message": "Server is locked by another operation", "data": {"locked_by": "dx_create_server"}}`, "", 15 * time.Millisecond},
	{"c6f0a9e2-4b7d-4182-9f3e-5d2c8a1b0e66", "trees", "dx_add_note", "consumer-01",
		`{"tree_id": "oak-8812", "note": "` + xssPayload + `"}`,
		`{"success": true, "message": "Noted <img src=x onerror=alert(2)>", "data": null}`, "", 54 * time.Millisecond},
	{"08e2b5d7-9a3c-4f61-b0d8-7c4e1a6f2b95", "servers", "dx_create_server", "consumer-02",
		`{"name": "db-03", "flavour": "m2.xlarge", "root_password": "*****", "api_key": "*****", "ssh_keys": [], "tags": {}}`,
		`{"success": true, "message": "Server created", "data": {"id": 48230, "ip_addresses": ["192.0.2.30"], "status": "active"}}`, "", 3700 * time.Millisecond},
	{"d91f4c6b-3e8a-4a25-8b7f-2c0d9e5a1b38", "trees", "dx_create_tree", "consumer-02",
		`{"species": "baobab", "height_m": 30, "location": {"lat": 52.37, "lon": 4.89}}`,
		`{"success": false, "message": "Species not allowed in this climate", "data": {"allowed": ["oak", "beech", "birch"]}}`, "", 64 * time.Millisecond},
	{"5e1d0b83-6f2c-4e9a-a1d5-3b7c9e0f2a47", "trees", "dx_get_toleration", "consumer-01",
		`{"chance_percentage": 5, "favourite_food": "figs"}`,
		`{"success": true, "message": "Determined toleration", "data": {"tolerable": false}}`, "", 31 * time.Millisecond},
	{"b27e8d1f-0c5a-4b63-9d2e-6f1a4c8b3e50", "servers", "dx_delete_server", "consumer-02",
		`{"server_id": 48230}`, "", "", 0},
}

// progressSteps are the progress updates of fixture 2 (a server created
// in 4.2 s), by milliseconds after its request.
var progressSteps = []struct {
	After          int
	State, Message string
	Percent        *float64
	Data           string
}{
	{40, "Queued", "waiting for the hypervisor", nil, ""},
	{310, "Creating", "allocating a 40 GB volume", wire.Percentage(10), ""},
	{1250, "Copying", "copying image <b>ubuntu-24.04</b>", wire.Percentage(45), `{"bytes_copied": 1932735283}`},
	{3020, "Booting", "waiting for the console", wire.Percentage(80), ""},
	{4150, "Done", "server web-17 is active", wire.Percentage(100), ""},
}

// seed stores the fixtures at their times and leaves the clock a minute
// after the last one.
func seed(t *testing.T, st store.Store, clk *clock, fx []fixture) {
	t.Helper()
	ctx := context.Background()
	for i, f := range fx {
		clk.Set(at(i + 1))
		addFixture(t, st, f)
		if f.Response != "" {
			clk.Set(at(i + 1).Add(f.Took))
			var tb *string
			if f.Traceback != "" {
				tb = &f.Traceback
			}
			err := st.AddResponse(ctx, wire.LogResponse{CorrelationID: f.Corr, ResponsePayload: json.RawMessage(f.Response), Traceback: tb})
			if err != nil {
				t.Fatalf("seed response %s: %v", f.Corr, err)
			}
		}
	}
	if len(fx) >= 2 {
		for _, p := range progressSteps {
			clk.Set(at(2).Add(time.Duration(p.After) * time.Millisecond))
			lp := wire.LogProgress{CorrelationID: fx[1].Corr, Time: clk.Now(), State: p.State, Message: p.Message, Percent: p.Percent}
			if p.Data != "" {
				lp.Data = json.RawMessage(p.Data)
			}
			if err := st.AddProgress(ctx, lp); err != nil {
				t.Fatalf("seed progress: %v", err)
			}
		}
	}
	clk.Set(at(len(fx)).Add(time.Minute))
}

func addFixture(t *testing.T, st store.Store, f fixture) {
	t.Helper()
	err := st.AddRequest(context.Background(), wire.LogRequest{
		CorrelationID: f.Corr, RequestPayload: json.RawMessage(f.Request),
		VirtualHostName: f.VHost, QueueName: f.VHost, RabbitMQUsername: "rpc-" + f.VHost,
		Hostname: f.Host, ExchangeName: f.Exchange,
	})
	if err != nil {
		t.Fatalf("seed request %s: %v", f.Corr, err)
	}
}

// newSeeded returns a memory store holding the fixtures and its clock.
func newSeeded(t *testing.T) (*memory.Store, *clock) {
	t.Helper()
	clk := &clock{}
	st := memory.NewWithClock(clk.Now)
	t.Cleanup(func() { _ = st.Close() })
	seed(t, st, clk, fixtures)
	return st, clk
}

// corr is the correlation id of fixture n (from 1).
func corr(n int) string { return fixtures[n-1].Corr }

// basic is the credentials part of a basic Authorization header.
func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
