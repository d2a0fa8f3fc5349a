// Package logservertest is a log server for tests that answers as the
// reference log server does (python3-cyberfusion-rabbitmq-consumer-log-server
// 1.2.x: FastAPI 0.131, Pydantic 2.12, SQLAlchemy over SQLite). It records
// what it accepted, and can be made to fail (a status for every post, or for
// one record), hold its answers, or go down (connection refused) and come
// back.
//
// # Behaviour taken from the reference
//
// Established by reading the reference's source (api.py, pydantic_models.py,
// dependencies.py, database.py, its Alembic migrations and its API tests)
// together with FastAPI's request handling; the reference was not run.
// Checked in this order, as FastAPI does:
//
//  1. A body that is not JSON: 422 (FastAPI decodes the body before any
//     dependency runs), detail type "json_invalid".
//  2. X-API-Token (a dependency of the whole router, run before the body is
//     validated: the reference's tests post a wrong token without a body and
//     get 401): missing, 422 (a required header); wrong, 401
//     {"detail":"Invalid API token"}. Never 403.
//  3. The body against the Pydantic model, 422 listing every error
//     ({"detail":[{"type","loc","msg","input"}]}): the body must be an
//     object; every field is required (unknown ones are ignored);
//     correlation_id a UUID of version 4 (canonical, 32 hex digits, braced
//     or urn:uuid: forms; only the version digit is checked, as
//     pydantic-core does); virtual_host_name, queue_name, exchange_name,
//     hostname and rabbitmq_username strings (Pydantic 2 does not turn
//     numbers into strings); request_payload an object or an array
//     (dict | list); response_payload an object (dict, so null is refused);
//     traceback a string or null, but present (Optional without a default
//     is required in Pydantic 2).
//  4. POST /rpc-requests with a correlation id the server already has: 500
//     "Internal Server Error" as text/plain (a unique constraint on
//     correlation_id; the IntegrityError is not handled).
//  5. POST /rpc-responses whose request the server does not have: 400
//     {"detail":"No RPC response with correlation ID <id>"}; a second
//     response for one correlation id: 500, as in 4 (unique constraint).
//  6. Success: 201 {"detail":"Object created"}.
//
// Correlation ids are compared in their canonical form (lower case, with
// hyphens), as the reference stores str(UUID).
//
// # Behaviour of the double only
//
// FailWith, FailOn, Hold, Down and Up simulate outages and faults; Events,
// Refusals, Posts and Changed let a test see what happened.
package logservertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// Event is one accepted post, in arrival order.
type Event struct {
	Kind          string // "request" or "response"
	CorrelationID string // canonical form
	Request       *wire.LogRequest
	Response      *wire.LogResponse
}

// Refusal is one post answered with another status than 201.
type Refusal struct {
	Kind   string // "request" or "response"
	Status int
	Body   string // the body the server answered
}

// Server is the log server double.
type Server struct {
	mu        sync.Mutex
	token     string
	addr      string
	srv       *http.Server
	status    int            // when non-zero, every post answers this status
	failOn    map[string]int // kind+" "+canonical id -> status
	hold      chan struct{}  // when non-nil, answers wait for it after the record is stored
	events    []Event
	refusals  []Refusal
	requests  map[string]bool // stored requests by canonical correlation id
	responses map[string]bool // stored responses by canonical correlation id
	posts     int
	notify    chan struct{}
}

// New starts a log server on a free loopback port; it stops when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, failOn: map[string]int{}, requests: map[string]bool{}, responses: map[string]bool{}, notify: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() {
		s.Release()
		s.Down()
	})
	return s
}

// Token is the API token the server accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken changes the API token the server accepts.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// BaseURL is the base_url to configure.
func (s *Server) BaseURL() string { return "http://" + s.addr + "/api/v1/" }

func (s *Server) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1"+wire.LogRequestsPath, func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, "request") })
	mux.HandleFunc("POST /api/v1"+wire.LogResponsesPath, func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, "response") })
	srv := &http.Server{Handler: mux}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

// Down stops listening: posts are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatalf("log server: listen again on %s: %v", s.addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serve(ln)
}

// FailWith makes every post answer status (0: behave normally).
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// FailOn makes every post of one record (kind "request" or "response",
// and its correlation id) answer status, while the others are handled
// normally; status 0 ends it.
func (s *Server) FailOn(kind, correlationID string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := kind + " " + canonical(correlationID)
	if status == 0 {
		delete(s.failOn, key)
	} else {
		s.failOn[key] = status
	}
}

// Hold makes the next posts store their record and then wait, without
// answering, until Release or until the client goes away: a client killed
// meanwhile has sent a record the server has.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// Release answers the posts held by Hold, and ends it.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Events lists the accepted posts in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Refusals lists the posts answered with another status than 201, in order.
func (s *Server) Refusals() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refusals...)
}

// Accepted is the number of accepted posts.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// Posts is the number of posts received, accepted or not.
func (s *Server) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// Changed is closed once the next post has been handled.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

// changed wakes those waiting in Changed, once a post has been handled.
func (s *Server) changed() {
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// handle answers one post of kind "request" or "response".
func (s *Server) handle(w http.ResponseWriter, r *http.Request, kind string) {
	defer s.changed()
	status, body, hold := s.decide(r, kind)
	if hold != nil {
		s.changed() // stored: let those waiting for it see it
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	if status != http.StatusCreated {
		s.refusals = append(s.refusals, Refusal{Kind: kind, Status: status, Body: body})
	}
	s.mu.Unlock()
	if status == http.StatusInternalServerError {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// decide checks a post as the reference does and stores an accepted
// record; hold is non-nil when the answer must wait.
func (s *Server) decide(r *http.Request, kind string) (status int, body string, hold chan struct{}) {
	s.mu.Lock()
	s.posts++
	forced, token := s.status, s.token
	s.mu.Unlock()
	if forced != 0 {
		return forced, http.StatusText(forced), nil
	}
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(r.Body)
	var doc any
	hasBody := raw.Len() > 0
	if hasBody && isJSON(r.Header.Get("Content-Type")) {
		d := json.NewDecoder(bytes.NewReader(raw.Bytes()))
		d.UseNumber()
		err := d.Decode(&doc)
		if err == nil && d.More() {
			err = fmt.Errorf("extra data")
		}
		if err != nil {
			return 422, detailJSON([]fieldError{{Type: "json_invalid", Loc: []any{"body", 0}, Msg: "JSON decode error", Input: map[string]any{}}}), nil
		}
	}
	got, present := r.Header["X-Api-Token"]
	var errs []fieldError
	switch {
	case !present:
		errs = append(errs, fieldError{Type: "missing", Loc: []any{"header", "x-api-token"}, Msg: "Field required", Input: nil})
	case got[0] != token:
		return http.StatusUnauthorized, `{"detail":"Invalid API token"}`, nil
	}
	fields := requestFields
	if kind == "response" {
		fields = responseFields
	}
	obj, errs := validate(doc, hasBody, fields, errs)
	if len(errs) > 0 {
		return 422, detailJSON(errs), nil
	}
	id := canonical(obj["correlation_id"].(string))
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.failOn[kind+" "+id]; st != 0 {
		return st, http.StatusText(st), nil
	}
	b, _ := json.Marshal(obj)
	ev := Event{Kind: kind, CorrelationID: id}
	switch kind {
	case "request":
		if s.requests[id] {
			return http.StatusInternalServerError, "Internal Server Error", nil
		}
		var req wire.LogRequest
		_ = json.Unmarshal(b, &req)
		s.requests[id] = true
		ev.Request = &req
	case "response":
		if !s.requests[id] {
			return http.StatusBadRequest, fmt.Sprintf(`{"detail":"No RPC response with correlation ID %s"}`, id), nil
		}
		if s.responses[id] {
			return http.StatusInternalServerError, "Internal Server Error", nil
		}
		var resp wire.LogResponse
		_ = json.Unmarshal(b, &resp)
		s.responses[id] = true
		ev.Response = &resp
	}
	s.events = append(s.events, ev)
	return http.StatusCreated, `{"detail":"Object created"}`, s.hold
}

// isJSON tells whether FastAPI decodes a body of this Content-Type as
// JSON: none, application/json, or application/*+json.
func isJSON(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
