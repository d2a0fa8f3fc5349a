// Package logservertest is a log server for tests that implements the
// reference log server's API exactly: POST {base}/rpc-requests and POST
// {base}/rpc-responses with their fields, the X-API-Token header (401 when
// wrong), 400 for a malformed body or a response whose request it has not
// seen, 201 on success. It records what it accepted, and can be made to
// fail (5xx) or go down (connection refused) and come back.
package logservertest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
)

// Request is an accepted POST /rpc-requests body.
type Request struct {
	CorrelationID    string          `json:"correlation_id"`
	RequestPayload   json.RawMessage `json:"request_payload"`
	VirtualHostName  string          `json:"virtual_host_name"`
	QueueName        string          `json:"queue_name"`
	RabbitMQUsername string          `json:"rabbitmq_username"`
	Hostname         string          `json:"hostname"`
	ExchangeName     string          `json:"exchange_name"`
}

// Response is an accepted POST /rpc-responses body.
type Response struct {
	CorrelationID   string          `json:"correlation_id"`
	ResponsePayload json.RawMessage `json:"response_payload"`
	Traceback       *string         `json:"traceback"`
}

// Event is one accepted post, in arrival order.
type Event struct {
	Kind          string // "request" or "response"
	CorrelationID string
	Request       *Request
	Response      *Response
}

// Server is the log server double.
type Server struct {
	mu       sync.Mutex
	token    string
	addr     string
	ln       net.Listener
	srv      *http.Server
	status   int // when non-zero, every post answers this status
	events   []Event
	requests map[string]int // accepted requests by correlation id
	posts    int
	notify   chan struct{}
}

// New starts a log server on a free loopback port; it stops when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, requests: map[string]int{}, notify: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Down)
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
	mux.HandleFunc("POST /api/v1/rpc-requests", s.postRequest)
	mux.HandleFunc("POST /api/v1/rpc-responses", s.postResponse)
	srv := &http.Server{Handler: mux}
	s.ln, s.srv = ln, srv
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

// Events lists the accepted posts in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
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

func (s *Server) begin(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.posts++
	status, token := s.status, s.token
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return false
	}
	if r.Header.Get("X-API-Token") != token {
		http.Error(w, `{"detail":"Invalid API token"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

func decode(w http.ResponseWriter, r *http.Request, v any, required ...string) bool {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		http.Error(w, fmt.Sprintf(`{"detail":"not JSON: %v"}`, err), http.StatusBadRequest)
		return false
	}
	for _, k := range required {
		if _, ok := raw[k]; !ok {
			http.Error(w, fmt.Sprintf(`{"detail":"field %s required"}`, k), http.StatusBadRequest)
			return false
		}
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, v); err != nil {
		http.Error(w, fmt.Sprintf(`{"detail":"%v"}`, err), http.StatusBadRequest)
		return false
	}
	return true
}

// changed wakes those waiting in Changed, once a post has been handled.
func (s *Server) changed() {
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) postRequest(w http.ResponseWriter, r *http.Request) {
	defer s.changed()
	if !s.begin(w, r) {
		return
	}
	var req Request
	if !decode(w, r, &req, "correlation_id", "request_payload", "virtual_host_name", "queue_name", "rabbitmq_username", "hostname", "exchange_name") {
		return
	}
	if req.CorrelationID == "" {
		http.Error(w, `{"detail":"correlation_id must not be empty"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests[req.CorrelationID]++
	s.events = append(s.events, Event{Kind: "request", CorrelationID: req.CorrelationID, Request: &req})
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{}`))
}

func (s *Server) postResponse(w http.ResponseWriter, r *http.Request) {
	defer s.changed()
	if !s.begin(w, r) {
		return
	}
	var resp Response
	if !decode(w, r, &resp, "correlation_id", "response_payload", "traceback") {
		return
	}
	s.mu.Lock()
	seen := s.requests[resp.CorrelationID] > 0
	if seen {
		s.events = append(s.events, Event{Kind: "response", CorrelationID: resp.CorrelationID, Response: &resp})
	}
	s.mu.Unlock()
	if !seen {
		http.Error(w, `{"detail":"no request with this correlation_id"}`, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{}`))
}
