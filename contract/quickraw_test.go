package consumer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fernet/fernet-go"
)

func TestQuickResponse(t *testing.T) {
	c, err := compile("dx", &Contract{
		Request:  json.RawMessage(`{"type":"object"}`),
		Response: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		raw    string
		proven bool
	}{
		{`{"success":true,"message":"m","data":{"n":1}}`, true},
		{` { "data" : { "n" : 1 } , "message" : "m\n" , "success" : true } `, true},
		{`{"success":false,"message":"failed","data":{"anything":[1]}}`, true},
		{`{"success":false,"message":"failed","data":null}`, true},
		{`{"success":true,"message":"m","data":{}}`, false},
		{`{"success":true,"message":"m","data":{"n":"1"}}`, false},
		{`{"success":true,"message":"m"}`, false},
		{`{"success":true,"message":"m","data":{"n":1},"extra":1}`, false},
		{`{"success":true,"success":false,"message":"m","data":{"n":1}}`, false},
		{`{"success":"yes","message":"m","data":{"n":1}}`, false},
		{`{"success":true,"message":1,"data":{"n":1}}`, false},
		{`{"success":true,"message":"m","data":{"n":1}`, false},
		{`[{"success":true,"message":"m","data":{"n":1}}]`, false},
		{`{"success":true,"message":"m","data":{"n":1}} x`, false},
	} {
		got := c.quickResponse([]byte(tc.raw), false)
		if got != tc.proven {
			t.Errorf("quickResponse(%s) = %v, want %v", tc.raw, got, tc.proven)
		}
		if got {
			if err := c.checkResponse([]byte(tc.raw)); err != nil {
				t.Errorf("quickResponse proved %s valid; checkResponse says %v", tc.raw, err)
			}
		}
	}
}

// TestQuickResponseOfGoHandlerNotUTF8: a Go handler's response holding
// bytes that are not UTF-8 (through a json.RawMessage) is not proven.
func TestQuickResponseOfGoHandlerNotUTF8(t *testing.T) {
	c, err := compile("dx", &Contract{Request: json.RawMessage(`{}`), Response: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"success": true, "message": "m", "data": map[string]any{"n": 1, "x": json.RawMessage("\"\xff\"")}})
	if c.quickResponse(raw, true) {
		t.Errorf("quickResponse proved %q", raw)
	}
	if err := c.checkResponse(raw); err == nil {
		t.Errorf("checkResponse accepts %q", raw)
	}
}

// TestQuickRequest: a request proven from its bytes takes the lock that
// decoding it gives, and requests that need decoding are not proven.
func TestQuickRequest(t *testing.T) {
	c := offline(t, "")
	rt := c.routes["dx_echo"] // lock attribute n
	for _, tc := range []struct {
		body   string
		proven bool
	}{
		{`{"n":1}`, true},
		{` {"n": 12 , "payload":"x"} `, true},
		{`{"n":-3}`, true},
		{`{"n":1,"n":2}`, false}, // a duplicate key: refused
		{"{\"n\":1,\"payload\":\"\xff\"}", false},
		{`{"payload":"x"}`, false}, // n is required
		{`{"n":1.5}`, false},
		{`{"n":1,"payload":"a\"b"}`, false},
		{`{"n":1,"other":1}`, false},
		{`{"n":1}{`, false},
		{`[1]`, false},
	} {
		lock, proven := c.quickRequest(rt, []byte(tc.body))
		if proven != tc.proven {
			t.Errorf("quickRequest(%s) proven = %v, want %v", tc.body, proven, tc.proven)
			continue
		}
		if !proven {
			continue
		}
		obj, err := decodeObject([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if want := lockKey(rt, obj); lock != want {
			t.Errorf("quickRequest(%s) lock %q, decoded %q", tc.body, lock, want)
		}
	}
}

func TestEncodesAsItself(t *testing.T) {
	for _, v := range []string{`1`, `-2`, `1.50`, `1e3`, `true`, `false`, `null`, `"abc"`, `"é ✓"`, `"a<b"`, `"a&b"`, `"a\u2028"`, `"a\"b"`, `"a\\u0041"`, `{"a":1}`, `[1]`} {
		var decoded any
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&decoded); err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(decoded)
		same := string(again) == v
		if encodesAsItself([]byte(v)) && !same {
			t.Errorf("encodesAsItself(%s) but encoding/json writes %s", v, again)
		}
	}
}

// TestQuickRequestLeavesTokensToDecoding: with a Fernet key, a request
// that may hold a token is decoded, to be decrypted.
func TestQuickRequestLeavesTokensToDecoding(t *testing.T) {
	c := offline(t, "")
	var k fernet.Key
	if err := k.Generate(); err != nil {
		t.Fatal(err)
	}
	c.keys = []*fernet.Key{&k}
	tok, err := fernet.EncryptAndSign([]byte("secret"), &k)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"n": 1, "payload": string(tok)})
	if _, proven := c.quickRequest(c.routes["dx_echo"], body); proven {
		t.Errorf("quickRequest proved %s valid without decrypting it", body)
	}
	if _, proven := c.quickRequest(c.routes["dx_echo"], []byte(`{"n":1,"payload":"short"}`)); !proven {
		t.Error("a request without a token is not proven")
	}
	c.keys = nil
	if _, proven := c.quickRequest(c.routes["dx_echo"], body); !proven {
		t.Error("without a key, a token is a plain string")
	}
}
