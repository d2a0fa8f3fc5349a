package logservertest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	id1 = "6f1c2b9e-3d4a-4f5b-8c6d-7e8f9a0b1c2d"
	id2 = "0b7e4a52-1c3d-4e5f-9a8b-7c6d5e4f3a2b"
)

func request(id, payload string) string {
	return `{"correlation_id":"` + id + `","request_payload":` + payload + `,"virtual_host_name":"v","queue_name":"q","exchange_name":"dx","hostname":"h","rabbitmq_username":"u"}`
}

func response(id, payload string) string {
	return `{"correlation_id":"` + id + `","response_payload":` + payload + `,"traceback":null}`
}

// TestReferenceStatuses posts, over HTTP, what the reference log server
// answers 201, 400, 401, 422 and 500 to, in one sequence (the server keeps
// what it accepted).
func TestReferenceStatuses(t *testing.T) {
	s := New(t, "tok")
	steps := []struct {
		name, path, token, body string
		status                  int
		answer                  string
	}{
		{"request", "rpc-requests", "tok", request(id1, `{"a":1}`), 201, `{"detail":"Object created"}`},
		{"array payload", "rpc-requests", "tok", request(id2, `[1,2]`), 201, ""},
		{"same id again", "rpc-requests", "tok", request(id1, `{"a":1}`), 500, "Internal Server Error"},
		{"same id upper case", "rpc-requests", "tok", request(strings.ToUpper(id1), `{"a":1}`), 500, ""},
		{"string payload", "rpc-requests", "tok", request("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", `"[1,2]"`), 422, `"dict_type"`},
		{"number payload", "rpc-requests", "tok", request("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", `42`), 422, ""},
		{"null payload", "rpc-requests", "tok", request("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", `null`), 422, ""},
		{"uuid version 1", "rpc-requests", "tok", request("6f1c2b9e-3d4a-1f5b-8c6d-7e8f9a0b1c2d", `{}`), 422, `"uuid_version"`},
		{"not a uuid", "rpc-requests", "tok", request("call-1", `{}`), 422, `"uuid_parsing"`},
		{"missing field", "rpc-requests", "tok", `{"correlation_id":"` + id2 + `","request_payload":{}}`, 422, `"missing"`},
		{"number as string", "rpc-requests", "tok", strings.Replace(request("2c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", `{}`), `"q"`, `5`, 1), 422, `"string_type"`},
		{"not JSON, wrong token", "rpc-requests", "bad", `{`, 422, `"json_invalid"`},
		{"wrong token, no body", "rpc-requests", "bad", ``, 401, `{"detail":"Invalid API token"}`},
		{"no token", "rpc-requests", "", request("3c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", `{}`), 422, `"x-api-token"`},
		{"body an array", "rpc-requests", "tok", `[1]`, 422, `"model_attributes_type"`},
		{"response", "rpc-responses", "tok", response(id1, `{"success":true}`), 201, ""},
		{"response again", "rpc-responses", "tok", response(id1, `{"success":true}`), 500, ""},
		{"response unknown request", "rpc-responses", "tok", response("4c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", `{}`), 400, `{"detail":"No RPC response with correlation ID 4c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}`},
		{"response null payload", "rpc-responses", "tok", response(id2, `null`), 422, `"dict_type"`},
		{"response no traceback", "rpc-responses", "tok", `{"correlation_id":"` + id2 + `","response_payload":{}}`, 422, `"traceback"`},
		{"response braced id", "rpc-responses", "tok", response("{"+strings.ToUpper(id2)+"}", `{}`), 201, ""},
	}
	for _, st := range steps {
		req, _ := http.NewRequest(http.MethodPost, s.BaseURL()+st.path, strings.NewReader(st.body))
		req.Header.Set("Content-Type", "application/json")
		if st.token != "" {
			req.Header.Set("X-API-Token", st.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != st.status || !strings.Contains(string(b), st.answer) {
			t.Errorf("%s: %d %s, want %d containing %s", st.name, resp.StatusCode, b, st.status, st.answer)
		}
	}
	if n := len(s.Events()); n != 4 {
		t.Errorf("%d records stored, want 4", n)
	}
}
