package memory

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// sameRequest says whether two requests are the same record: equal fields
// and payloads that are the same JSON value (key order and spacing aside,
// as a database's JSON column would see them).
func sameRequest(a, b wire.LogRequest) bool {
	return a.CorrelationID == b.CorrelationID &&
		a.VirtualHostName == b.VirtualHostName &&
		a.QueueName == b.QueueName &&
		a.RabbitMQUsername == b.RabbitMQUsername &&
		a.Hostname == b.Hostname &&
		a.ExchangeName == b.ExchangeName &&
		sameJSON(a.RequestPayload, b.RequestPayload)
}

// sameResponse is sameRequest for responses.
func sameResponse(a, b wire.LogResponse) bool {
	return a.CorrelationID == b.CorrelationID &&
		samePtr(a.Traceback, b.Traceback) &&
		sameJSON(a.ResponsePayload, b.ResponsePayload)
}

// sameProgress is sameRequest for progress updates.
func sameProgress(a, b wire.LogProgress) bool {
	return a.CorrelationID == b.CorrelationID && a.Time.Equal(b.Time) && a.State == b.State && a.Message == b.Message &&
		samePtr(a.Percent, b.Percent) &&
		sameOptionalJSON(a.Data, b.Data)
}

// sameOptionalJSON is sameJSON where absent and null are the same.
func sameOptionalJSON(a, b json.RawMessage) bool {
	null := func(j json.RawMessage) bool { t := bytes.TrimSpace(j); return len(t) == 0 || string(t) == "null" }
	if null(a) || null(b) {
		return null(a) == null(b)
	}
	return sameJSON(a, b)
}

// samePtr says whether two optional values are both absent or equal.
func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// sameJSON compares two JSON texts as values; texts that do not parse are
// compared byte for byte.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, okA := decode(a)
	vb, okB := decode(b)
	return okA && okB && reflect.DeepEqual(va, vb)
}

func decode(raw json.RawMessage) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// clone copies a payload so that the caller's buffer and the stored record
// never share memory.
func clone(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}

// clonePtr copies an optional value, so that the caller's and the stored
// record never share it.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// copyPair returns a deep copy of p, so that callers cannot change what is
// stored.
func copyPair(p *store.Pair) store.Pair {
	c := *p
	c.Request.RequestPayload = clone(p.Request.RequestPayload)
	if p.Response != nil {
		r := *p.Response
		r.ResponsePayload = clone(r.ResponsePayload)
		r.Traceback = clonePtr(r.Traceback)
		c.Response = &r
	}
	return c
}
