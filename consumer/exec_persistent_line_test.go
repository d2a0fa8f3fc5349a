package consumer

import (
	"os"
	"path/filepath"
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

func TestContractMode(t *testing.T) {
	tests := []struct {
		extra      string
		persistent bool
		maxReq     int
		err        string
	}{
		{``, false, DefaultMaxRequestsPerProcess, ""},
		{`,"mode":"oneshot"`, false, DefaultMaxRequestsPerProcess, ""},
		{`,"mode":"persistent"`, true, DefaultMaxRequestsPerProcess, ""},
		{`,"mode":"persistent","max_requests_per_process":0`, true, 0, ""},
		{`,"mode":"persistent","max_requests_per_process":5`, true, 5, ""},
		{`,"mode":"Persistent"`, false, 0, `mode "Persistent": must be "oneshot" or "persistent"`},
		{`,"max_requests_per_process":-1`, false, 0, "max_requests_per_process must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.extra, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "contract.json")
			if err := os.WriteFile(path, []byte(`{"description":"d","request":{},"response":{}`+tt.extra+`}`), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := ReadContract(path)
			if err == nil {
				_, err = compile("dx", c)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Persistent() != tt.persistent || c.MaxRequests() != tt.maxReq {
				t.Errorf("persistent %v, max requests %d; want %v, %d", c.Persistent(), c.MaxRequests(), tt.persistent, tt.maxReq)
			}
		})
	}
}
