package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fernet/fernet-go"
)

func TestQuickResponse(t *testing.T) {
	c, err := Compile("dx", &Contract{
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
		got := c.ProveResponse([]byte(tc.raw), false)
		if got != tc.proven {
			t.Errorf("ProveResponse(%s) = %v, want %v", tc.raw, got, tc.proven)
		}
		if got {
			if err := c.CheckResponse([]byte(tc.raw)); err != nil {
				t.Errorf("ProveResponse proved %s valid; CheckResponse says %v", tc.raw, err)
			}
		}
	}
}

// TestQuickResponseOfGoHandlerNotUTF8: a Go handler's response holding
// bytes that are not UTF-8 (through a json.RawMessage) is not proven.
func TestQuickResponseOfGoHandlerNotUTF8(t *testing.T) {
	c, err := Compile("dx", &Contract{Request: json.RawMessage(`{}`), Response: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"success": true, "message": "m", "data": map[string]any{"n": 1, "x": json.RawMessage("\"\xff\"")}})
	if c.ProveResponse(raw, true) {
		t.Errorf("ProveResponse proved %q", raw)
	}
	if err := c.CheckResponse(raw); err == nil {
		t.Errorf("CheckResponse accepts %q", raw)
	}
}

// TestQuickRequest: a request proven from its bytes takes the lock that
// decoding it gives, and requests that need decoding are not proven.
func TestQuickRequest(t *testing.T) {
	c := echoContract(t) // lock attribute n
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
		lock, proven := c.ProveRequest([]byte(tc.body), false)
		if proven != tc.proven {
			t.Errorf("ProveRequest(%s) proven = %v, want %v", tc.body, proven, tc.proven)
			continue
		}
		if !proven {
			continue
		}
		obj, err := decodeObject([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if want := c.LockValue(obj); lock != want {
			t.Errorf("ProveRequest(%s) lock %q, decoded %q", tc.body, lock, want)
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
	c := echoContract(t)
	var k fernet.Key
	if err := k.Generate(); err != nil {
		t.Fatal(err)
	}
	tok, err := fernet.EncryptAndSign([]byte("secret"), &k)
	if err != nil {
		t.Fatal(err)
	}
	body := mustJSON(t, map[string]any{"n": 1, "payload": string(tok)})
	if _, proven := c.ProveRequest(body, true); proven {
		t.Errorf("ProveRequest proved %s valid without decrypting it", body)
	}
	if _, proven := c.ProveRequest([]byte(`{"n":1,"payload":"short"}`), true); !proven {
		t.Error("a request without a token is not proven")
	}
	if _, proven := c.ProveRequest(body, false); !proven {
		t.Error("without a key, a token is a plain string")
	}
}

// echoRequest is the request of the benchmark's echo handler
// (bench/echo-consumer).
type echoRequest struct {
	N       int    `json:"n"`
	Payload string `json:"payload,omitempty"`
}

// echoContract is the echo handler's contract, locked on n.
func echoContract(t testing.TB) *Compiled {
	t.Helper()
	c, err := Compile("dx_echo", &Contract{LockAttribute: "n", Request: SchemaOf[echoRequest](), Response: SchemaOf[echoRequest]()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
