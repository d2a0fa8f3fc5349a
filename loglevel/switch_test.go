package loglevel

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestSwitchFollowsChanges(t *testing.T) {
	var out bytes.Buffer
	base := zerolog.New(&out).Level(zerolog.ErrorLevel) // overridden: the switch decides
	initial, _ := Parse("info,handler=debug")
	s := NewSwitch(initial)
	h, a := s.Logger(base, Handler), s.Logger(base, AMQP)
	lines := func() string { defer out.Reset(); return out.String() }

	h.Debug().Msg("h-debug")
	a.Debug().Msg("a-debug")
	a.Info().Msg("a-info")
	if got := lines(); !strings.Contains(got, `"component":"handler","message":"h-debug"`) || strings.Contains(got, "a-debug") || !strings.Contains(got, "a-info") {
		t.Fatalf("at info,handler=debug: %s", got)
	}
	s.MoreVerbose()
	a.Debug().Msg("a-debug")
	h.Trace().Msg("h-trace")
	if got := lines(); !strings.Contains(got, "a-debug") || !strings.Contains(got, "h-trace") {
		t.Fatalf("after MoreVerbose (%s): %s", s.Levels(), got)
	}
	s.Reset()
	a.Debug().Msg("a-debug")
	if got := lines(); got != "" || s.Levels().String() != "info,handler=debug" {
		t.Fatalf("after Reset (%s): %q", s.Levels(), got)
	}
}

func TestHTTPHandler(t *testing.T) {
	initial, _ := Parse("info")
	s := NewSwitch(initial)
	srv := httptest.NewServer(HTTPHandler(s, zerolog.Nop()))
	defer srv.Close()
	tests := []struct {
		method, body string
		remote       string // RemoteAddr for the in-process calls; "" goes over the real socket
		status       int
		answer       string
		levels       string
	}{
		{method: "GET", status: 200, answer: "info\n", levels: "info"},
		{method: "PUT", body: "info,handler=debug", status: 200, answer: "info,handler=debug\n", levels: "info,handler=debug"},
		{method: "PUT", body: "info,handler=loud", status: 400, answer: `"loud" is not a level`, levels: "info,handler=debug"},
		{method: "PUT", body: "debug", remote: "192.0.2.1:4000", status: 403, answer: "from this host only", levels: "info,handler=debug"},
		{method: "DELETE", status: 405, levels: "info,handler=debug"},
	}
	for _, tt := range tests {
		var status int
		var answer string
		if tt.remote == "" {
			req, _ := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			status, answer = resp.StatusCode, b.String()
		} else {
			req := httptest.NewRequest(tt.method, "/log-level", strings.NewReader(tt.body))
			req.RemoteAddr = tt.remote
			rec := httptest.NewRecorder()
			HTTPHandler(s, zerolog.Nop()).ServeHTTP(rec, req)
			status, answer = rec.Code, rec.Body.String()
		}
		if status != tt.status || !strings.Contains(answer, tt.answer) || s.Levels().String() != tt.levels {
			t.Errorf("%s %q: %d %q, levels %s; want %d %q, levels %s", tt.method, tt.body, status, answer, s.Levels(), tt.status, tt.answer, tt.levels)
		}
	}
}
