package consumer

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

// TestLoggerOfARequest: a Go handler's consumer.Logger(ctx) writes lines
// that carry the request's exchange and correlation id.
func TestLoggerOfARequest(t *testing.T) {
	var buf bytes.Buffer
	base := zerolog.New(&buf).With().Str("vhost", "v").Logger()
	ctx := withRequestLog(context.Background(), &requestLog{base: &base, exchange: "dx_a", cid: "c-1"})
	l := Logger(ctx)
	l.Info().Msg("from the handler")
	if got := buf.String(); !strings.Contains(got, `"vhost":"v","exchange":"dx_a","correlation_id":"c-1"`) || !strings.Contains(got, "from the handler") {
		t.Errorf("line = %s", got)
	}
	if l := Logger(context.Background()); l.GetLevel() != zerolog.Disabled {
		t.Errorf("outside a request: level %v, want the disabled logger of zerolog.Ctx", l.GetLevel())
	}
}
