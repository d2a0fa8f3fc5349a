package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship/logservertest"
)

// echoHandler answers with the request it got (so a test sees what the
// handler saw).
const echoHandler = `#!/bin/sh
printf '{"success":true,"message":"echo","data":%s}' "$(cat)"
`

// TestLogShippingEndToEnd: the consumer spools every request and response
// with Fernet-decrypted fields masked, the shipper posts them to the log
// server, each response after its request, and the cleartext never reaches
// the spool or the server. The log server is down at first: the RPC is
// answered all the same, and the records arrive once it is back.
func TestLogShippingEndToEnd(t *testing.T) {
	w := newWorld(t, 5)
	write(t, filepath.Join(w.handlers, "dx_echo", "handler"), echoHandler, 0o755)
	write(t, filepath.Join(w.handlers, "dx_echo", "contract.json"), `{"description":"echo","lock_attribute":null,"request":{"type":"object"},"response":{}}`, 0o644)
	var key fernet.Key
	if err := key.Generate(); err != nil {
		t.Fatal(err)
	}
	srv := logservertest.New(t, "tok")
	srv.Down()
	spool := filepath.Join(w.dir, "spool")
	cfg := strings.Replace(mustRead(t, w.cfgPath), "virtual_hosts:", fmt.Sprintf("spool_directory: %s\nlog_server: {base_url: '%s', api_token: tok}\nvirtual_hosts:", spool, srv.BaseURL()), 1)
	cfg = strings.Replace(cfg, "    exchanges:\n", fmt.Sprintf("    fernet_key: '%s'\n    exchanges:\n      dx_echo: {}\n", key.Encode()), 1)
	write(t, w.cfgPath, cfg, 0o644)

	p := w.start()
	p.waitLog(t, `"message":"consuming"`)
	c := testrpc.New(t, w.vh.URL(), true)
	tok, _ := fernet.EncryptAndSign([]byte("hunter2-cleartext"), &key)
	body, _ := json.Marshal(map[string]string{"user": "alice", "password": string(tok)})
	// The reference log server takes only UUID4 correlation ids.
	_, reply := c.Send("dx_echo", w.queue, body, amqp.Publishing{CorrelationId: uuid4(t)})
	r := c.Wait(reply)
	var data map[string]string
	_ = json.Unmarshal(r.Data, &data)
	if !r.Success || data["password"] != "hunter2-cleartext" {
		t.Fatalf("the handler must get the decrypted field; reply %+v", r)
	}
	for i := 0; i < 8; i++ {
		b, _ := json.Marshal(map[string]int{"n": i})
		_, reply := c.Send("dx_record", w.queue, b, amqp.Publishing{CorrelationId: uuid4(t)})
		if r := c.Wait(reply); !r.Success {
			t.Fatal(r)
		}
	}
	// A body that is not a JSON object gets a failure response; its request
	// and response reach the log server all the same.
	notObject := uuid4(t)
	_, reply = c.Send("dx_record", w.queue, []byte(`[1,2]`), amqp.Publishing{CorrelationId: notObject})
	if r := c.Wait(reply); r.Success {
		t.Fatal(r)
	}
	// The log server is down; nothing was posted, everything is spooled.
	ship := startShipProc(t, w.cfgPath)
	testutil.WaitFor(t, "the shipper to find the server down", 60*time.Second, func() bool { return strings.Contains(ship.stderr.String(), "log server unavailable") })
	srv.Up(t)
	testutil.WaitFor(t, "20 records at the log server", 60*time.Second, func() bool { return srv.Accepted() >= 20 })
	if r := srv.Refusals(); len(r) != 0 {
		t.Errorf("the log server refused records: %+v", r)
	}
	seen := map[string]bool{}
	for _, e := range srv.Events() {
		if e.CorrelationID == notObject && e.Request != nil && string(e.Request.RequestPayload) != `{"_raw":"[1,2]"}` {
			t.Errorf("request_payload of a non-object body = %s", e.Request.RequestPayload)
		}
		switch e.Kind {
		case "request":
			seen[e.CorrelationID] = true
			if e.Request.VirtualHostName != w.vh.Name || e.Request.QueueName != w.queue || e.Request.RabbitMQUsername != "guest" {
				t.Errorf("request record = %+v", e.Request)
			}
		case "response":
			if !seen[e.CorrelationID] {
				t.Errorf("response %s before its request", e.CorrelationID)
			}
		}
		if b, _ := json.Marshal(e); strings.Contains(string(b), "hunter2") {
			t.Errorf("the decrypted secret reached the log server: %s", b)
		}
		if e.Request != nil && strings.Contains(string(e.Request.RequestPayload), `"password"`) && !strings.Contains(string(e.Request.RequestPayload), `"password":"*****"`) {
			t.Errorf("password not masked: %s", e.Request.RequestPayload)
		}
	}
	// Not even in the response record, although the handler echoed the
	// secret back in its data: decrypted values are masked wherever they
	// appear in what is logged or shipped.
	_ = filepath.Walk(spool, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), "hunter2") {
				t.Errorf("the decrypted secret is in the spool file %s", path)
			}
		}
		return nil
	})
	if strings.Contains(p.stderr.String(), "hunter2") {
		t.Error("the decrypted secret is in the consumer's log")
	}
	ship.signal(t, syscall.SIGTERM)
	if code, _ := ship.wait(t, 30*time.Second); code != 0 {
		t.Errorf("shipper exit status %d", code)
	}
}

// uuid4 is a random UUID of version 4.
func uuid4(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func startShipProc(t *testing.T, cfg string) *proc {
	t.Helper()
	return startBin(t, logshipBin, []string{"--config-file-path", cfg, "--poll", "20ms"})
}
