package handler

import (
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
	}{
		{`{"correlation_id":"c","response":{"success":true,"message":"m","data":null}}`, `{"success":true,"message":"m","data":null}`, ""},
		{`{"response": {"success": true}, "correlation_id": "c", "extra": 1}`, `{"success": true}`, ""},
		{`not json`, "", "not a JSON object"},
		{`[1]`, "", "not a JSON object"},
		{`{"response":{}}`, "", "without correlation_id"},
		{`{"correlation_id":"d","response":{}}`, "", `correlation_id "d" while "c" was asked`},
		{`{"correlation_id":"c"}`, "", "without a response object"},
		{`{"correlation_id":"c","response":[]}`, "", "without a response object"},
		{`{"correlation_id":"c","response":null}`, "", "without a response object"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := parseResponseLine([]byte(tt.line), "c")
			switch {
			case tt.err == "" && (err != nil || string(got) != tt.want):
				t.Errorf("= %s, %v; want %s", got, err, tt.want)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error = %v, want one saying %q", err, tt.err)
			}
		})
	}
}
