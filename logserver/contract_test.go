package logserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testpg"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/postgres"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testToken    = "t0ken"
	testPassword = "pa55word"
)

// stores are the databases every API test runs on.
var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "log.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"postgres", func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), testpg.New(t, "logserver_test"), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// startServer serves the log server's routes on st, with a stand-in GUI.
func startServer(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	gui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("gui")) })
	srv := httptest.NewServer(Handler(st, api.Options{Token: testToken, GUIPassword: testPassword}, gui))
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

const (
	uuidA = "0f3c2a5e-8b1d-4c7e-9a2b-3d4e5f607182"
	uuidB = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
)

func reqBody(id string) string {
	return fmt.Sprintf(`{"correlation_id":%q,"request_payload":{"tree":"oak","password":"*****"},"virtual_host_name":"trees",`+
		`"queue_name":"q","rabbitmq_username":"guest","hostname":"h1","exchange_name":"dx_tree"}`, id)
}

func respBody(id string) string {
	return fmt.Sprintf(`{"correlation_id":%q,"response_payload":{"success":true,"message":"ok","data":null},"traceback":null}`, id)
}

func progBody(id, at, state string) string {
	return fmt.Sprintf(`{"correlation_id":%q,"time":%q,"state":%q,"message":"step <b>","percent":50,"data":{"n":1}}`, id, at, state)
}

// call is one request of the contract, made in order on one server.
type call struct {
	name        string
	method      string
	path        string
	token       *string // nil: no X-API-Token header
	password    *string // nil: no basic auth
	contentType string
	body        string
	status      int
	// detail, when set, must appear in the answer.
	detail string
}

func str(s string) *string { return &s }

var (
	tok = str(testToken)
	pw  = str(testPassword)
)

// contract is the API's behaviour, call by call: the reference's statuses
// and its superset (any correlation id, idempotent repeats, 409).
var contract = []call{
	{"request", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", reqBody(uuidA), 201, `{"detail":"Object created"}`},
	{"identical request again", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", reqBody(uuidA), 201, "Object created"},
	{"different request, same id", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", strings.Replace(reqBody(uuidA), "oak", "elm", 1), 409, "A different record"},
	{"response", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", respBody(uuidA), 201, "Object created"},
	{"identical response again", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", respBody(uuidA), 201, "Object created"},
	{"different response, same id", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", strings.Replace(respBody(uuidA), "true", "false", 1), 409, "A different record"},
	{"response of an unknown request", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", respBody(uuidB), 400, `No RPC response with correlation ID ` + uuidB},
	{"any correlation id", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", reqBody("order 17/ünï"), 201, ""},
	{"its response", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", respBody("order 17/ünï"), 201, ""},
	{"request payload an array", "POST", "/api/v1/rpc-requests", tok, nil, "", strings.Replace(reqBody("arr"), `{"tree":"oak","password":"*****"}`, `[1,2]`, 1), 201, ""},
	{"wrong token", "POST", "/api/v1/rpc-requests", str("nope"), nil, "application/json", reqBody(uuidB), 401, `{"detail":"Invalid API token"}`},
	{"wrong token, no body", "POST", "/api/v1/rpc-requests", str("nope"), nil, "", "", 401, "Invalid API token"},
	{"empty token", "POST", "/api/v1/rpc-responses", str(""), nil, "application/json", respBody(uuidA), 401, "Invalid API token"},
	{"no token", "POST", "/api/v1/rpc-requests", nil, nil, "application/json", reqBody(uuidB), 422, `"loc":["header","x-api-token"]`},
	{"not JSON", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", `{"correlation_id":`, 422, `"type":"json_invalid"`},
	{"not JSON, wrong token", "POST", "/api/v1/rpc-requests", str("nope"), nil, "application/json", `nope`, 422, "json_invalid"},
	{"two JSON values", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", reqBody(uuidB) + " {}", 422, "json_invalid"},
	{"no body", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", "", 422, `"loc":["body"]`},
	{"text/plain body", "POST", "/api/v1/rpc-requests", tok, nil, "text/plain", reqBody(uuidB), 422, `"loc":["body"],"msg":"Field required"`},
	{"body an array", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", `[]`, 422, "model_attributes_type"},
	{"missing field", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", strings.Replace(reqBody(uuidB), `"hostname":"h1",`, "", 1), 422, `"loc":["body","hostname"]`},
	{"number for a string", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", strings.Replace(reqBody(uuidB), `"q"`, `7`, 1), 422, `"type":"string_type","loc":["body","queue_name"]`},
	{"empty correlation id", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", reqBody(""), 422, "string_too_short"},
	{"NUL in a string", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", strings.Replace(reqBody(uuidB), `"h1"`, `"h\u00001"`, 1), 422, `"loc":["body","hostname"]`},
	{"correlation id a number", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", strings.Replace(reqBody("x"), `"x"`, `12`, 1), 422, `"loc":["body","correlation_id"]`},
	{"request payload a string", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", strings.Replace(reqBody(uuidB), `{"tree":"oak","password":"*****"}`, `"oak"`, 1), 422, "list_type"},
	{"response payload null", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", strings.Replace(respBody(uuidA), `{"success":true,"message":"ok","data":null}`, `null`, 1), 422, "dict_type"},
	{"traceback missing", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", strings.Replace(respBody(uuidA), `,"traceback":null`, ``, 1), 422, `"loc":["body","traceback"]`},
	{"traceback a number", "POST", "/api/v1/rpc-responses", tok, nil, "application/json", strings.Replace(respBody(uuidA), `"traceback":null`, `"traceback":3`, 1), 422, "string_type"},
	{"body too large", "POST", "/api/v1/rpc-requests", tok, nil, "application/json", `{"x":"` + strings.Repeat("a", api.DefaultMaxBodyBytes) + `"}`, 413, ""},
	{"progress", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", progBody(uuidA, "2026-03-01T12:00:02.5Z", "Copying"), 201, "Object created"},
	{"earlier progress, posted later", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", progBody(uuidA, "2026-03-01T13:00:01+01:00", "Building"), 201, ""},
	{"identical progress again", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", progBody(uuidA, "2026-03-01T12:00:02.5Z", "Copying"), 201, ""},
	{"different progress, same time", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", progBody(uuidA, "2026-03-01T12:00:02.5Z", "Other"), 409, "A different record"},
	{"progress without percent and data", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", `{"correlation_id":"` + uuidA + `","time":"2026-03-01T12:00:03Z","state":"Done","message":""}`, 201, ""},
	{"progress of an unknown request", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", progBody(uuidB, "2026-03-01T12:00:00Z", "S"), 400, `No RPC request with correlation ID ` + uuidB},
	{"progress, wrong token", "POST", "/api/v1/rpc-progress", str("nope"), nil, "application/json", progBody(uuidA, "2026-03-01T12:00:00Z", "S"), 401, "Invalid API token"},
	{"progress, no token", "POST", "/api/v1/rpc-progress", nil, nil, "application/json", progBody(uuidA, "2026-03-01T12:00:00Z", "S"), 422, `"loc":["header","x-api-token"]`},
	{"progress, not JSON", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", `{`, 422, "json_invalid"},
	{"progress, bad time", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", progBody(uuidA, "yesterday", "S"), 422, `"loc":["body","time"]`},
	{"progress, time missing", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", `{"correlation_id":"` + uuidA + `","state":"S","message":""}`, 422, `"type":"missing","loc":["body","time"]`},
	{"progress, state a number", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", strings.Replace(progBody(uuidA, "2026-03-01T12:00:00Z", "S"), `"S"`, `3`, 1), 422, `"type":"string_type","loc":["body","state"]`},
	{"progress, percent a string", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", strings.Replace(progBody(uuidA, "2026-03-01T12:00:00Z", "S"), `50`, `"half"`, 1), 422, `"loc":["body","percent"]`},
	{"progress, NUL in the message", "POST", "/api/v1/rpc-progress", tok, nil, "application/json", strings.Replace(progBody(uuidA, "2026-03-01T12:00:00Z", "S"), `step`, `st\u0000ep`, 1), 422, `"loc":["body","message"]`},
	{"GET progress: no such endpoint", "GET", "/api/v1/rpc-progress", nil, pw, "", "", 405, ""},
	{"GET by correlation id, with its progress in order", "GET", "/api/v1/rpc-requests?correlation_id=" + uuidA, nil, pw, "", "", 200,
		`"progress":[{"correlation_id":"` + uuidA + `","time":"2026-03-01T12:00:01Z","state":"Building"`},
	{"GET by prefix: no progress", "GET", "/api/v1/rpc-requests?prefix=1&correlation_id=" + uuidA[:8], nil, pw, "", "", 200, `"duration_ns"`},
	{"GET without password", "GET", "/api/v1/rpc-requests", nil, nil, "", "", 401, "Incorrect password"},
	{"GET with the API token only", "GET", "/api/v1/rpc-requests", tok, nil, "", "", 401, ""},
	{"GET wrong password", "GET", "/api/v1/rpc-requests", nil, str("nope"), "", "", 401, ""},
	{"GET list", "GET", "/api/v1/rpc-requests", nil, pw, "", "", 200, `"correlation_id":"arr"`},
	{"GET by correlation id", "GET", "/api/v1/rpc-requests?correlation_id=" + uuidA, nil, pw, "", "", 200, `"outcome":"success"`},
	{"GET with counts", "GET", "/api/v1/rpc-requests?outcome=awaiting&counts=1", nil, pw, "", "", 200, `"counts":{"awaiting":1,"error":0,"failure":0,"success":2}`},
	{"GET bad parameter", "GET", "/api/v1/rpc-requests?outcome=done", nil, pw, "", "", 400, "parameter outcome"},
	{"GET responses: no such endpoint", "GET", "/api/v1/rpc-responses", nil, pw, "", "", 405, ""},
	{"unknown API path", "POST", "/api/v1/nothing", tok, nil, "application/json", "{}", 404, `{"detail":"Not Found"}`},
	{"PUT", "PUT", "/api/v1/rpc-requests", tok, nil, "application/json", reqBody(uuidB), 405, ""},
	{"the GUI at /", "GET", "/", nil, nil, "", "", 200, "gui"},
}

// TestAPIContract runs the contract, call by call, on each database.
func TestAPIContract(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			srv := startServer(t, db.open(t))
			for _, c := range contract {
				req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				if c.contentType != "" {
					req.Header.Set("Content-Type", c.contentType)
				}
				if c.token != nil {
					req.Header.Set("X-API-Token", *c.token)
				}
				if c.password != nil {
					req.SetBasicAuth("anyone", *c.password)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status || !strings.Contains(string(b), c.detail) {
					t.Errorf("%s: %d %.300s\n want %d with %s", c.name, resp.StatusCode, b, c.status, c.detail)
				}
				if resp.StatusCode == 401 && c.method == "GET" && resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without a challenge", c.name)
				}
			}
		})
	}
}

// TestAPIListPaging: the JSON listing pages newest first with the next
// cursor, and carries the pair as the store has it.
func TestAPIListPaging(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			srv := startServer(t, db.open(t))
			for i := 0; i < 5; i++ {
				post(t, srv.URL+"/api/v1/rpc-requests", reqBody(fmt.Sprintf("page-%d", i)))
			}
			post(t, srv.URL+"/api/v1/rpc-responses", respBody("page-3"))
			var seen []string
			next := ""
			for {
				var page api.ListResponse
				get(t, srv.URL+"/api/v1/rpc-requests?limit=2"+next, &page)
				for _, p := range page.Pairs {
					seen = append(seen, p.Request.CorrelationID+":"+string(p.Outcome))
				}
				if page.Next == 0 {
					break
				}
				next = fmt.Sprintf("&before=%d", page.Next)
			}
			if got := strings.Join(seen, " "); got != "page-4:awaiting page-3:success page-2:awaiting page-1:awaiting page-0:awaiting" {
				t.Errorf("pages: %s", got)
			}
			var one api.ListResponse
			get(t, srv.URL+"/api/v1/rpc-requests?correlation_id=page-3", &one)
			if len(one.Pairs) != 1 || one.Pairs[0].Response == nil || string(one.Pairs[0].Request.RequestPayload) != `{"tree":"oak","password":"*****"}` {
				t.Errorf("by correlation id: %+v", one)
			}
		})
	}
}

func post(t *testing.T, url, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("X-API-Token", testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("", testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
