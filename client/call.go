package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/fernet/fernet-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	encrypt  []string
	progress func(wire.Progress)
}

// WithProgress asks the consumer for the call's progress updates (the
// request header wire.AcceptProgressHeader) and calls fn with each, in
// order, on the calling goroutine, before Call returns the reply. The
// consumer sends at most one update per 200 ms; updates that arrive while
// fn runs wait (up to 64; later ones are dropped).
func WithProgress(fn func(wire.Progress)) CallOption {
	return func(o *callOptions) { o.progress = fn }
}

// Encrypt Fernet-encrypts the named top-level string fields of the request
// with the virtual host's key; the consumer decrypts them before validation
// and masks them in everything it logs.
func Encrypt(fields ...string) CallOption {
	return func(o *callOptions) { o.encrypt = append(o.encrypt, fields...) }
}

// encode turns a request body into JSON, encrypting the named fields.
func encode(body any, encrypt []string, key *fernet.Key) ([]byte, error) {
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	case json.RawMessage:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("%w: encode: %v", ErrInvalidRequest, err)
		}
	}
	if len(encrypt) == 0 {
		return raw, nil
	}
	if key == nil {
		return nil, fmt.Errorf("%w: encrypt %v: the virtual host has no fernet_key", ErrInvalidRequest, encrypt)
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: encrypt %v: the request is not a JSON object", ErrInvalidRequest, encrypt)
	}
	for _, f := range encrypt {
		v, ok := obj[f]
		if !ok {
			return nil, fmt.Errorf("%w: encrypt %s: the request has no such field", ErrInvalidRequest, f)
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%w: encrypt %s: only string fields can be encrypted", ErrInvalidRequest, f)
		}
		tok, err := fernet.EncryptAndSign([]byte(s), key)
		if err != nil {
			return nil, fmt.Errorf("%w: encrypt %s: %v", ErrInvalidRequest, f, err)
		}
		obj[f], _ = json.Marshal(string(tok))
	}
	return json.Marshal(obj)
}

// CallTyped calls exchange with a typed request and decodes the reply's data
// into Resp: the client side of handler.Typed handlers. The data of a
// failure response is left zero (it rarely has Resp's shape); its message
// says what went wrong.
func CallTyped[Req, Resp any](ctx context.Context, c *Client, exchange string, req Req, opts ...CallOption) (wire.Reply[Resp], error) {
	r, err := c.Call(ctx, exchange, req, opts...)
	if err != nil {
		return wire.Reply[Resp]{}, err
	}
	out := wire.Reply[Resp]{Success: r.Success, Message: r.Message}
	if r.Success && len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &out.Data); err != nil {
			return out, fmt.Errorf("decode reply data of %s: %w", exchange, err)
		}
	}
	return out, nil
}
