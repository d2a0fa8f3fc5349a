package handler

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendRequestLine(t *testing.T) {
	tests := []struct {
		name string
		call Call
		want string
	}{
		{"no deadline", Call{CorrelationID: "c1", Exchange: "dx_a", VirtualHost: "v", Body: []byte(`{"a":1}`)},
			`{"correlation_id":"c1","exchange":"dx_a","virtual_host":"v","redelivered":false,"deadline":null,"request":{"a":1}}` + "\n"},
		{"deadline, redelivered", Call{CorrelationID: "c2", Exchange: "dx_a", VirtualHost: "v", Redelivered: true, Deadline: time.UnixMilli(1767225600000), Body: []byte(`{}`)},
			`{"correlation_id":"c2","exchange":"dx_a","virtual_host":"v","redelivered":true,"deadline":1767225600000,"request":{}}` + "\n"},
		{"escapes, body compacted", Call{CorrelationID: "a\"b\n", Exchange: "dx_a", VirtualHost: "/", Body: []byte("{\"a\": [1,\n 2]}")},
			`{"correlation_id":"a\"b\u000a","exchange":"dx_a","virtual_host":"/","redelivered":false,"deadline":null,"request":{"a":[1,2]}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendRequestLine(nil, &tt.call)); got != tt.want {
				t.Errorf("line = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseResponseLine(t *testing.T) {
	tests := []struct {
		line, want, err string
		plain           bool // read by plainResponseLine, not decoded
	}{
		{`{"correlation_id":"c","response":{"success":true,"message":"m","data":null}}`, `{"success":true,"message":"m","data":null}`, "", true},
		{`{"correlation_id":"c","response":{"s":"é","a":[1, {"b":"}"}]}}`, `{"s":"é","a":[1, {"b":"}"}]}`, "", true},
		{` { "response" : {"success": true} , "correlation_id" : "c" } `, `{"success": true}`, "", false},
		{`{"response": {"success": true}, "correlation_id": "c", "extra": 1}`, `{"success": true}`, "", false},
		{`{"correlation_id":"\u0063","response":{}}`, `{}`, "", false},
		{`{"Correlation_ID":"c","response":{}}`, `{}`, "", false},
		{`{"correlation_id":"c","response":{},"correlation_id":"c"}`, `{}`, "", false},
		{`{"correlation_id":"c","response":{"a":1,"a":2}}`, `{"a":1,"a":2}`, "", true},
		{`{"correlation_id":"c","response":{"a":}}`, "", "not a JSON object", false},
		{`{"correlation_id":"c","response":{}}}`, "", "not a JSON object", false},
		{`not json`, "", "not a JSON object", false},
		{`[1]`, "", "not a JSON object", false},
		{`{"response":{}}`, "", "without correlation_id", false},
		{`{"correlation_id":"d","response":{}}`, "", `correlation_id "d" while "c" was asked`, false},
		{`{"correlation_id":"c"}`, "", "without a response object", false},
		{`{"correlation_id":"c","response":[]}`, "", "without a response object", false},
		{`{"correlation_id":"c","response":null}`, "", "without a response object", false},
		{`{"correlation_id":"c","progress":{"state":"Building","message":"m","percent":40,"data":{"k":1}}}`, "", "", false},
		{`{"correlation_id":"c","progress":{"state":"Building"},"response":{}}`, `{}`, "", false},
		{`{"correlation_id":"d","progress":{"state":"Building"}}`, "", `correlation_id "d" while "c" was asked`, false},
		{`{"correlation_id":"c","retry_after_seconds":2.5}`, "", "", false},
		{`{"correlation_id":"c","retry_after_seconds":-1}`, "", "not between 0 and", false},
		{`{"correlation_id":"c","retry_after_seconds":"soon"}`, "", "without {\"retry_after_seconds\": N}", false},
		{`{"correlation_id":"c","progress":"Building"}`, "", "a progress line whose progress is not", false},
		{`{"correlation_id":"c","progress":{"percent":"half"}}`, "", "a progress line whose progress is not", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			line := []byte(tt.line)
			pl, err := parseResponseLine(line, "c")
			got, progress := pl.response, pl.progress
			if wantProgress := strings.Contains(tt.line, `"progress":{"state"`) && !strings.Contains(tt.line, "response") && tt.err == ""; (progress != nil) != wantProgress {
				t.Errorf("progress = %+v, want one: %v", progress, wantProgress)
			}
			switch {
			case tt.err == "" && (err != nil || string(got) != tt.want):
				t.Errorf("= %s, %v; want %s", got, err, tt.want)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error = %v, want one saying %q", err, tt.err)
			}
			if _, plain := plainResponseLine(line, "c"); plain != tt.plain {
				t.Errorf("read without decoding: %v, want %v", plain, tt.plain)
			}
			for i := range line {
				line[i] = 'x'
			}
			if tt.err == "" && string(got) != tt.want {
				t.Errorf("the response changed with the line's buffer: %s", got)
			}
		})
	}
}

// TestParseResponseLineEscapedID: a correlation id written with escapes is
// decoded, never compared byte for byte.
func TestParseResponseLineEscapedID(t *testing.T) {
	for _, cid := range []string{`a"b`, `a\b`, "a\nb", "a\xffb"} {
		line, _ := json.Marshal(map[string]any{"correlation_id": cid, "response": map[string]any{}})
		if _, plain := plainResponseLine(line, cid); plain {
			t.Errorf("%q read without decoding", cid)
		}
		pl, err := parseResponseLine(line, cid)
		got := pl.response
		if wantOK := cid != "a\xffb"; (err == nil) != wantOK || (wantOK && string(got) != "{}") {
			t.Errorf("parseResponseLine(%s) = %s, %v", line, got, err)
		}
	}
}
