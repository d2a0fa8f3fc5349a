package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/contract"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

type foodRequest struct {
	FavouriteFood    string `json:"favourite_food" jsonschema:"enum=onion,enum=orange,enum=banana"`
	ChancePercentage int    `json:"chance_percentage,omitempty" jsonschema:"exclusiveMinimum=0,default=20"`
}

type foodResponse struct {
	Tolerable bool `json:"tolerable"`
}

func TestTypedHandlerContract(t *testing.T) {
	var got foodRequest
	h := Typed("food", func(_ context.Context, _ *Call, r foodRequest) (wire.Reply[foodResponse], error) {
		got = r
		return wire.Reply[foodResponse]{Success: true, Message: "ok", Data: foodResponse{Tolerable: true}}, nil
	}, WithLockAttribute("favourite_food"), WithExample(foodRequest{FavouriteFood: "onion"}, wire.Reply[foodResponse]{Success: true, Message: "ok"}))
	c, err := contract.Compile("dx_food", h.Contract())
	if err != nil {
		t.Fatalf("derived contract does not compile: %v\nrequest schema: %s", err, h.Contract().Request)
	}
	if c.Contract().LockAttribute != "favourite_food" {
		t.Errorf("lock attribute = %q", c.Contract().LockAttribute)
	}
	tests := []struct {
		body     string
		wantErrs []string // location:type
	}{
		{`{"favourite_food":"onion"}`, nil},
		{`{"favourite_food":"kale"}`, []string{"[favourite_food]:enum"}},
		{`{"chance_percentage":5}`, []string{"[favourite_food]:missing"}},
		{`{"favourite_food":"onion","chance_percentage":0}`, []string{"[chance_percentage]:exclusiveMinimum"}},
		{`{"favourite_food":"onion","extra":1}`, []string{"[extra]:extra_forbidden"}},
	}
	for _, tt := range tests {
		obj, derrs := contract.DecodeRequest([]byte(tt.body))
		if derrs != nil {
			t.Fatal(derrs)
		}
		c.ApplyDefaults(obj)
		var errs []string
		for _, e := range c.CheckRequest(obj) {
			b, _ := json.Marshal(e.Location)
			errs = append(errs, strings.ReplaceAll(string(b), `"`, "")+":"+e.Type)
		}
		if strings.Join(errs, ",") != strings.Join(tt.wantErrs, ",") {
			t.Errorf("%s: errors %v, want %v", tt.body, errs, tt.wantErrs)
		}
	}
	obj, _ := contract.DecodeRequest([]byte(`{"favourite_food":"orange"}`))
	c.ApplyDefaults(obj)
	body, _ := json.Marshal(obj)
	raw, err := h.Handle(context.Background(), &Call{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if got.ChancePercentage != 20 || got.FavouriteFood != "orange" {
		t.Errorf("handler got %+v, want the default chance of 20", got)
	}
	if err := c.CheckResponse(raw); err != nil {
		t.Errorf("typed response does not pass its own schema: %v", err)
	}
}

func TestTypedFormatAssertion(t *testing.T) {
	type req struct {
		Email string `json:"email" jsonschema:"format=email"`
	}
	fn := func(context.Context, *Call, req) (wire.Reply[req], error) { return wire.Reply[req]{}, nil }
	for _, assert := range []bool{false, true} {
		var opts []Option
		if assert {
			opts = append(opts, WithFormatAssertion())
		}
		c, err := contract.Compile("x", Typed("d", fn, opts...).Contract())
		if err != nil {
			t.Fatal(err)
		}
		obj, _ := contract.DecodeRequest([]byte(`{"email":"nope"}`))
		if errs := c.CheckRequest(obj); (len(errs) > 0) != assert {
			t.Errorf("WithFormatAssertion %v: errors %+v", assert, errs)
		}
	}
}

// logLine is a RequestLog writing to a buffer.
type logLine struct{ base zerolog.Logger }

func (l logLine) Logger() zerolog.Logger { return l.base.With().Str("correlation_id", "c-1").Logger() }

// TestLogger: a handler's Logger(ctx) is the request's logger when the
// context carries one, else zerolog.Ctx's.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithRequestLog(context.Background(), logLine{base: zerolog.New(&buf)})
	l := Logger(ctx)
	l.Info().Msg("from the handler")
	if got := buf.String(); !strings.Contains(got, `"correlation_id":"c-1"`) || !strings.Contains(got, "from the handler") {
		t.Errorf("line = %s", got)
	}
	if l := Logger(context.Background()); l.GetLevel() != zerolog.Disabled {
		t.Errorf("outside a request: level %v, want the disabled logger of zerolog.Ctx", l.GetLevel())
	}
}
