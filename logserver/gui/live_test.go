package gui

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// sse is one server-sent event.
type sse struct {
	Event, ID, Data string
}

// subscribe opens an event stream and delivers its events on a channel,
// which is closed when the stream ends.
func subscribe(ctx context.Context, t *testing.T, client *http.Client, u, lastEventID string) <-chan sse {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET %s: %d %s, want 200 text/event-stream", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sse)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					select {
					case ch <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

// next waits for the next event, failing the test after a deadline.
func next(t *testing.T, ch <-chan sse) sse {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sse{}
}

func TestLiveEvents(t *testing.T) {
	defer goleak.VerifyNone(t)
	st, clk := newSeeded(t)
	stop := make(chan struct{})
	srv := httptest.NewServer(New(st, Options{Now: clk.Now, PollInterval: 10 * time.Millisecond, Stop: stop}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The list of one exchange, drawn when request 12 was the newest,
	// watching the awaiting request 12.
	v := url.Values{store.ParamExchange: {"dx_delete_server"}, store.ParamAfter: {"12"}, paramWatch: {corr(12)}}
	events := subscribe(ctx, t, client, srv.URL+"/events?"+v.Encode(), "")

	addFixture(t, st, fixture{Corr: "other-exchange", VHost: "trees", Exchange: "dx_create_tree", Host: "h", Request: `{}`})
	addFixture(t, st, fixture{Corr: "new-<delete>", VHost: "servers", Exchange: "dx_delete_server", Host: "h", Request: `{}`})
	ev := next(t, events)
	var row rowEvent
	if err := json.Unmarshal([]byte(ev.Data), &row); err != nil {
		t.Fatalf("pair event data %q: %v", ev.Data, err)
	}
	if ev.Event != eventPair || ev.ID != "14" || row.ID != 14 || !strings.Contains(row.HTML, `id="pair-14"`) || !strings.Contains(row.HTML, "new-&lt;delete&gt;") {
		t.Fatalf("first event %+v, want the new pair 14 on dx_delete_server, escaped", ev)
	}
	ev = next(t, events)
	if ev.Event != eventCounts || !strings.Contains(ev.Data, `"awaiting":2`) || !strings.Contains(ev.Data, `"total":4`) {
		t.Fatalf("second event %+v, want the counts of dx_delete_server: 2 awaiting of 4", ev)
	}

	// The watched request gets its response.
	err := st.AddResponse(context.Background(), wire.LogResponse{CorrelationID: corr(12), ResponsePayload: json.RawMessage(`{"success": true}`)})
	if err != nil {
		t.Fatal(err)
	}
	ev = next(t, events)
	if ev.Event != eventUpdate || ev.ID != "" || !strings.Contains(ev.Data, `"id":12`) || !strings.Contains(ev.Data, "o-success") {
		t.Fatalf("event %+v, want an update of pair 12 to success", ev)
	}
	if ev = next(t, events); ev.Event != eventCounts {
		t.Fatalf("event %+v, want counts", ev)
	}

	// A reconnecting browser resumes after its Last-Event-ID.
	resumedCtx, leave := context.WithCancel(ctx)
	defer leave()
	resumed := subscribe(resumedCtx, t, client, srv.URL+"/events?after=3", "14")
	addFixture(t, st, fixture{Corr: "newest", VHost: "trees", Exchange: "dx_create_tree", Host: "h", Request: `{}`})
	if ev = next(t, resumed); ev.Event != eventPair || ev.ID != "15" {
		t.Fatalf("resumed stream: first event %+v, want pair 15", ev)
	}

	// Bad parameters are refused before the stream starts.
	resp, err := client.Get(srv.URL + "/events?outcome=done")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("events?outcome=done: %d, want 400", resp.StatusCode)
	}

	// A stream ends when its browser goes away, and when the server stops.
	leave()
	ends(t, "the stream of a browser that left", resumed)
	close(stop)
	ends(t, "a stream when the server stops", events)
}

// ends waits for a stream to end, failing the test after a deadline.
func ends(t *testing.T, what string, ch <-chan sse) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s did not end within 10 s", what)
		}
	}
}
