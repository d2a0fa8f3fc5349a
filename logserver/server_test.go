package logserver

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/api"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/memory"
)

// TestServerGUI: the server serves the web interface at / behind the GUI
// password, beside the API, and its shutdown does not wait for open live
// views.
func TestServerGUI(t *testing.T) {
	st := memory.New()
	defer st.Close()
	cfg := &config.Config{APIToken: testToken, GUIPassword: testPassword}
	srv := newServer(st, cfg, api.Options{Token: testToken, GUIPassword: testPassword}, zerolog.Nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	tests := []struct {
		path     string
		password string
		status   int
		body     string
	}{
		{"/", testPassword, http.StatusOK, "<title>RPC log</title>"},
		{"/static/style.css", testPassword, http.StatusOK, "--success"},
		{"/pair?correlation_id=nope", testPassword, http.StatusNotFound, "No such request"},
		{"/", "wrong", http.StatusUnauthorized, ""},
		{"/api/v1/rpc-requests", testPassword, http.StatusOK, `"pairs"`},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, base+tt.path, nil)
		req.SetBasicAuth("operator", tt.password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
			t.Errorf("GET %s: %d %.80q, want %d with %q", tt.path, resp.StatusCode, b, tt.status, tt.body)
		}
	}

	// A browser with the live view open.
	req, _ := http.NewRequest(http.MethodGet, base+"/events?after=0", nil)
	req.SetBasicAuth("", testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("live view: %q, %v; want its stream to start", line, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a live view open: %v; want the stream ended at once", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("serve: %v", err)
	}
}
