package consumer

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fernet/fernet-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logship"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// The consumer's semantics (locks, the clean environment, Fernet) hold
// for persistent handlers as for the others.

// TestPersistentLocks: one lock value is never inside two processes at
// once (different values may run side by side, in processes of their own).
// Each request works 400 ms inside its process: a second request of the
// same value that did not wait for the lock would start a process of its
// own 50 ms later and enter while the first is still inside.
func TestPersistentLocks(t *testing.T) {
	handlers, state := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, prefetch: 10})
	c := h.caller(false)
	var ws []chan wire.Response
	for range 3 {
		for _, gate := range []string{"g", "h"} {
			_, w := c.Send("dx_p", h.queue(), []byte(`{"do":"work","gate":"`+gate+`","seconds":0.4}`), amqpPublishing())
			ws = append(ws, w)
		}
	}
	for _, w := range ws {
		if r := c.Wait(w); !r.Success {
			t.Fatalf("reply = %+v %s", r, r.Data)
		}
	}
	inside, most := map[string]int{}, map[string]int{}
	all, mostAll := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(state, "trace"))), "\n") {
		ev, gate, _ := strings.Cut(line, " ")
		if ev == "enter" {
			inside[gate]++
			all++
		} else {
			inside[gate]--
			all--
		}
		most[gate] = max(most[gate], inside[gate])
		mostAll = max(mostAll, all)
	}
	if most["g"] != 1 || most["h"] != 1 || mostAll > 2 {
		t.Errorf("at most %v inside at once per lock value and %d in all; want 1 each and at most 2 in all", most, mostAll)
	}
}

// TestPersistentEnvironment: a persistent process gets the clean
// environment of a one-shot handler (TestExecEnvironment): no secret of
// the consumer's, what handler.EnvVariable names but the consumer's own
// settings, and the protocol's RPC_ variables.
func TestPersistentEnvironment(t *testing.T) {
	setHandlerEnv(t)
	handlers, _ := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers})
	r := h.call(h.caller(false), "dx_p", map[string]any{"do": "environ"})
	pidOf(t, r)
	var env map[string]string
	if err := json.Unmarshal(r.Data, &env); err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if strings.Contains(v, "secret") {
			t.Errorf("the handler saw %s=%s", k, v)
		}
	}
	for k, want := range map[string]string{"LC_TIME": "C.UTF-8", "TZ": "Europe/Amsterdam", "HANDLER_SETTING": "passed", "RPC_PROTOCOL": "rabbitmq-consumer/1",
		"RPC_EXCHANGE": "dx_p", "RPC_VIRTUAL_HOST": h.vh.Name} {
		if env[k] != want {
			t.Errorf("the handler's %s = %q, want %q", k, env[k], want)
		}
	}
	if env["PATH"] == "" {
		t.Error("the handler has no PATH")
	}
	testutil.WaitFor(t, "the refusal to pass a consumer setting to be logged", 30*time.Second, func() bool {
		return strings.Contains(h.logs.String(), "RABBITMQ_CONSUMER_SERVER_PASSWORD")
	})
}

// TestPersistentFernet: a persistent process gets the request decrypted,
// as a one-shot handler does, and the secret reaches neither the log nor
// the journal.
func TestPersistentFernet(t *testing.T) {
	var key fernet.Key
	if err := key.Generate(); err != nil {
		t.Fatal(err)
	}
	handlers, _ := persistentWorld(t, "30", "")
	h := start(t, setup{exchanges: []string{"dx_p"}, handlersDir: handlers, fernetKey: key.Encode()})
	tok, err := fernet.EncryptAndSign([]byte("hunter2-very-secret"), &key)
	if err != nil {
		t.Fatal(err)
	}
	r := h.call(h.caller(false), "dx_p", map[string]any{"password": string(tok)})
	pidOf(t, r)
	var data struct {
		Line struct {
			Request struct{ Password string }
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.Line.Request.Password != "hunter2-very-secret" {
		t.Errorf("the process got password %q, want it decrypted", data.Line.Request.Password)
	}
	if strings.Contains(h.logs.String(), "hunter2") {
		t.Error("the decrypted secret reached the log")
	}
	requests := 0
	for _, rec := range h.journal.records() {
		if rec.Kind == logship.KindRequest {
			requests++
		}
		if strings.Contains(string(rec.RequestPayload), "hunter2") {
			t.Errorf("the decrypted secret reached the journal's request: %+v", rec)
		}
	}
	if requests != 1 {
		t.Errorf("%d request records in the journal, want 1", requests)
	}
}
