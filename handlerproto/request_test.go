package handlerproto

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// TestParseRequest: the consumer's lines are read without a decoder, any
// other line as encoding/json reads it; both give what encoding/json gives.
func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		framed     bool // read without a decoder
		fails      bool
	}{
		{name: "consumer's shape", line: `{"correlation_id":"a","exchange":"dx_x","virtual_host":"v","redelivered":false,"deadline":null,"request":{"n":1,"s":"é"}}`, framed: true},
		{name: "deadline, redelivered", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":true,"deadline":1767225600000,"request":{}}`, framed: true},
		{name: "attempt", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"attempt":3,"request":{}}`, framed: true},
		{name: "escape in a string", line: `{"correlation_id":"a\"b","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{}}`},
		{name: "unicode escape", line: `{"correlation_id":"\u00e9","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{}}`},
		{name: "spaces", line: `{"correlation_id": "a", "exchange": "x", "virtual_host": "v", "redelivered": false, "deadline": null, "request": {}}`},
		{name: "other order", line: `{"request":{"n":1},"correlation_id":"a"}`},
		{name: "leading zero", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":0123,"request":{}}`, fails: true},
		{name: "fraction", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":1.5,"request":{}}`, fails: true},
		{name: "request not an object", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":[1]}`},
		{name: "request not JSON", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{nope}}`, fails: true},
		{name: "more after the request", line: `{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{},"x":1}`},
		{name: "invalid UTF-8", line: "{\"correlation_id\":\"a\xff\",\"exchange\":\"x\",\"virtual_host\":\"v\",\"redelivered\":false,\"deadline\":null,\"request\":{}}"},
		{name: "not JSON", line: `nonsense`, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want Request
			wantErr := json.Unmarshal([]byte(tc.line), &want)
			got, err := parseRequest([]byte(tc.line))
			if (err != nil) != tc.fails || (wantErr != nil) != tc.fails {
				t.Fatalf("parseRequest: %v, encoding/json: %v; want failure %v", err, wantErr, tc.fails)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parseRequest = %+v, want %+v", got, want)
			}
			if _, framed := parseFramed([]byte(tc.line)); framed != tc.framed {
				t.Errorf("read without a decoder: %v, want %v", framed, tc.framed)
			}
		})
	}
}

// TestParseRequestCopies: the request outlives the line's buffer.
func TestParseRequestCopies(t *testing.T) {
	line := []byte(`{"correlation_id":"a","exchange":"x","virtual_host":"v","redelivered":false,"deadline":null,"request":{"n":1}}`)
	r, err := parseRequest(line)
	if err != nil {
		t.Fatal(err)
	}
	for i := range line {
		line[i] = 'x'
	}
	if string(r.Request) != `{"n":1}` {
		t.Errorf("request = %s after the line was overwritten, want {\"n\":1}", r.Request)
	}
}

func TestAppendResponse(t *testing.T) {
	for _, tc := range []struct {
		name, cid, message, data, want string
		fails                          bool
	}{
		{name: "plain", cid: "a", message: "m", data: `{"n":1}`, want: `{"correlation_id":"a","response":{"success":true,"message":"m","data":{"n":1}}}` + "\n"},
		{name: "spaces and newlines compacted", cid: "a", message: "m", data: "{\n \"n\": [1, 2]\n}", want: `{"correlation_id":"a","response":{"success":true,"message":"m","data":{"n":[1,2]}}}` + "\n"},
		{name: "no data", cid: "a", message: "m", want: `{"correlation_id":"a","response":{"success":true,"message":"m","data":null}}` + "\n"},
		{name: "escapes", cid: "a\"b", message: "é\n", data: `"s"`, want: `{"correlation_id":"a\"b","response":{"success":true,"message":"é\n","data":"s"}}` + "\n"},
		{name: "data not JSON", cid: "a", message: "m", data: `{nope`, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendResponse([]byte("before"), tc.cid, wireResponse(tc.message, tc.data))
			if (err != nil) != tc.fails {
				t.Fatalf("appendResponse: err = %v, want failure %v", err, tc.fails)
			}
			if tc.fails {
				if string(got) != "before" {
					t.Errorf("appendResponse failed leaving %q, want %q", got, "before")
				}
				return
			}
			if string(got) != "before"+tc.want {
				t.Errorf("appendResponse = %s, want before%s", got, tc.want)
			}
			var line struct {
				CorrelationID string          `json:"correlation_id"`
				Response      json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal(got[len("before"):], &line); err != nil || line.CorrelationID != tc.cid {
				t.Errorf("the line reads back as %+v, %v", line, err)
			}
		})
	}
}

func wireResponse(message, data string) wire.Response {
	return wire.Response{Success: true, Message: message, Data: json.RawMessage(data)}
}
