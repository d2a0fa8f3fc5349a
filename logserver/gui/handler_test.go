package gui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/logserver/store/memory"
)

// serve starts the GUI over st on a real socket.
func serve(t *testing.T, st store.Store, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(st, opts))
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches path and returns the status, the Location header and the body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string, string) {
	t.Helper()
	resp, err := noRedirect.Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var rowCorr = regexp.MustCompile(`<td class="corr mono" data-label="Correlation id"><a href="[^"]*">([^<]*)</a>`)

// shown lists the correlation ids of a list page's rows, in order.
func shown(body string) []string {
	out := []string{}
	for _, m := range rowCorr.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func corrs(ns ...int) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, corr(n))
	}
	return out
}

func TestListFilters(t *testing.T) {
	st, clk := newSeeded(t)
	srv := serve(t, st, Options{Now: clk.Now})
	rfc := func(n int) string { return url.QueryEscape(at(n).Format(time.RFC3339)) }
	tests := []struct {
		name   string
		query  string
		want   []string
		counts string // the counts bar, as "awaiting success failure error"
	}{
		{"everything, newest first", "", corrs(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1), "1 7 3 1"},
		{"exchange", "exchange_name=dx_delete_server", corrs(12, 7, 4), "1 0 1 1"},
		{"exchange and outcome", "exchange_name=dx_delete_server&outcome=failure", corrs(7), "1 0 1 1"},
		{"two outcomes", "outcome=failure&outcome=error", corrs(10, 7, 4, 3), "1 7 3 1"},
		{"success false without a traceback is a failure", "outcome=failure&virtual_host_name=servers", corrs(7), "1 2 1 1"},
		{"vhost and host", "hostname=consumer-02&virtual_host_name=servers", corrs(12, 9, 4, 2), "1 2 0 1"},
		{"exact correlation id", "correlation_id=" + corr(6), corrs(6), "0 1 0 0"},
		{"exact id is not a prefix", "correlation_id=5e1d", corrs(), "0 0 0 0"},
		{"prefix", "correlation_id=5e1d&prefix=1", corrs(11, 1), "0 2 0 0"},
		{"time range, until exclusive", "since=" + rfc(5) + "&until=" + rfc(8), corrs(7, 6, 5), "0 2 1 0"},
		{"nothing matches", "exchange_name=dx_nope", corrs(), "0 0 0 0"},
	}
	countRe := regexp.MustCompile(`<b data-count="(awaiting|success|failure|error)">(\d+)</b>`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/"
			if tt.query != "" {
				path += "?" + tt.query
			}
			status, loc, body := get(t, srv, path)
			if status == http.StatusSeeOther { // the canonical spelling
				status, _, body = get(t, srv, "/"+strings.TrimPrefix(loc, "./"))
			}
			if status != http.StatusOK {
				t.Fatalf("GET %s: status %d", path, status)
			}
			if got := shown(body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows %v\nwant %v", got, tt.want)
			}
			var counts []string
			for _, m := range countRe.FindAllStringSubmatch(body, -1) {
				counts = append(counts, m[2])
			}
			if got := strings.Join(counts, " "); got != tt.counts {
				t.Errorf("counts %q, want %q", got, tt.counts)
			}
			if len(tt.want) == 0 && !strings.Contains(body, "No requests match") {
				t.Error("an empty list does not say that nothing matches")
			}
		})
	}
}

var olderLink = regexp.MustCompile(`<a class="older" href="\./\?([^"]*)"`)

func TestListPaging(t *testing.T) {
	st, clk := newSeeded(t)
	srv := serve(t, st, Options{Now: clk.Now})
	pages := [][]string{corrs(12, 11, 10, 9, 8), corrs(7, 6, 5, 4, 3), corrs(2, 1)}
	path := "/?limit=5"
	for i, want := range pages {
		status, _, body := get(t, srv, path)
		if status != http.StatusOK {
			t.Fatalf("page %d (%s): status %d", i+1, path, status)
		}
		if got := shown(body); !reflect.DeepEqual(got, want) {
			t.Errorf("page %d: rows %v, want %v", i+1, got, want)
		}
		if live := strings.Contains(body, `id="live"`); live != (i == 0) {
			t.Errorf("page %d: live view %v, want it on the newest page only", i+1, live)
		}
		m := olderLink.FindStringSubmatch(body)
		if i == len(pages)-1 {
			if m != nil {
				t.Errorf("last page has an older link: %s", m[1])
			}
			break
		}
		if m == nil {
			t.Fatalf("page %d has no older link", i+1)
		}
		q, _ := url.ParseQuery(strings.ReplaceAll(m[1], "&amp;", "&"))
		if q.Get("limit") != "5" || q.Get("before") == "" {
			t.Errorf("older link %q does not keep the page size and name a cursor", m[1])
		}
		path = "/?" + q.Encode()
	}
	// A filter survives paging.
	_, _, body := get(t, srv, "/?limit=2&virtual_host_name=trees")
	m := olderLink.FindStringSubmatch(body)
	if m == nil || !strings.Contains(m[1], "virtual_host_name=trees") {
		t.Fatalf("older link %v lost the filter", m)
	}
	_, _, body = get(t, srv, "/?"+strings.ReplaceAll(m[1], "&amp;", "&"))
	if got := shown(body); !reflect.DeepEqual(got, corrs(8, 6)) {
		t.Errorf("second filtered page: %v, want %v", got, corrs(8, 6))
	}
}

func TestListCanonicalURL(t *testing.T) {
	st, clk := newSeeded(t)
	srv := serve(t, st, Options{Now: clk.Now, Location: time.FixedZone("CET", 3600)})
	tests := []struct {
		query    string
		status   int
		location string
	}{
		{"", http.StatusOK, ""},
		{"exchange_name=dx_create_tree", http.StatusOK, ""},
		// The form sends empty fields and local times without a zone.
		{"correlation_id=&exchange_name=dx_create_tree&virtual_host_name=&hostname=&since=2026-11-30T10%3A05&until=",
			http.StatusSeeOther, "./?exchange_name=dx_create_tree&since=2026-11-30T09%3A05%3A00Z"},
		{"correlation_id=&virtual_host_name=", http.StatusSeeOther, "./"},
		{"limit=50", http.StatusSeeOther, "./"},
		{"outcome=failure,error", http.StatusSeeOther, "./?outcome=failure&outcome=error"},
		{"outcome=done", http.StatusBadRequest, ""},
		{"since=yesterday", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		status, loc, body := get(t, srv, "/?"+tt.query)
		if status != tt.status || loc != tt.location {
			t.Errorf("%q: %d %q, want %d %q", tt.query, status, loc, tt.status, tt.location)
		}
		if status == http.StatusBadRequest && !strings.Contains(body, `role="alert">parameter `) {
			t.Errorf("%q: the 400 page does not name the parameter", tt.query)
		}
	}
}

func TestPasswordRequired(t *testing.T) {
	st, clk := newSeeded(t)
	srv := serve(t, st, Options{Now: clk.Now, Password: "s3cret"})
	tests := []struct {
		path       string
		user, pass string
		noAuth     bool
		want       int
	}{
		{"/", "", "", true, http.StatusUnauthorized},
		{"/", "admin", "wrong", false, http.StatusUnauthorized},
		{"/", "admin", "", false, http.StatusUnauthorized},
		{"/pair?correlation_id=" + corr(1), "", "", true, http.StatusUnauthorized},
		{"/events", "", "", true, http.StatusUnauthorized},
		{"/static/style.css", "", "", true, http.StatusUnauthorized},
		{"/", "admin", "s3cret", false, http.StatusOK},
		{"/", "anyone-at-all", "s3cret", false, http.StatusOK},
		{"/", "", "s3cret", false, http.StatusOK},
		{"/static/app.js", "x", "s3cret", false, http.StatusOK},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
		if !tt.noAuth {
			req.SetBasicAuth(tt.user, tt.pass)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s as %q/%q: %d, want %d", tt.path, tt.user, tt.pass, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: 401 without a basic challenge", tt.path)
		}
	}
	// Without a password, everyone is let in.
	open := serve(t, st, Options{Now: clk.Now})
	if status, _, _ := get(t, open, "/"); status != http.StatusOK {
		t.Errorf("no password: %d, want 200", status)
	}
}

func TestEscaping(t *testing.T) {
	clk := &clock{}
	st := memory.NewWithClock(clk.Now)
	evil := fixture{
		Corr: `"><script>alert(1)</script>`, VHost: "<b>v</b>", Exchange: "<script>x()</script>", Host: "h<i>",
		Request:   `{"<key>": "` + xssPayload + `", "n": [1, "</pre><script>alert(3)</script>"]}`,
		Response:  `{"success": false, "message": "<img src=x onerror=alert(2)>", "data": null}`,
		Traceback: "Traceback <script>alert(4)</script>", Took: time.Second,
	}
	seed(t, st, clk, []fixture{evil})
	srv := serve(t, st, Options{Now: clk.Now})
	for _, path := range []string{"/", "/pair?correlation_id=" + url.QueryEscape(evil.Corr), "/?exchange_name=" + url.QueryEscape(evil.Exchange)} {
		status, _, body := get(t, srv, path)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", path, status)
		}
		for _, raw := range []string{"<script>alert", "<script>x", "<img src=x", "<b>v</b>", "<i>", "<key>"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: the page holds %q unescaped", path, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: the escaped payload is not shown as text", path)
		}
	}
	// Even if a page ever let markup through, no inline script may run.
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not restrict scripts", csp)
	}
}

func TestPairPage(t *testing.T) {
	st, clk := newSeeded(t)
	srv := serve(t, st, Options{Now: clk.Now})
	tests := []struct {
		n      int
		status int
		want   []string
		absent []string
	}{
		{1, 200, []string{`badge o-success">success<`, "38 ms", `"tolerable"`, `j-bool">false<`, "Determined toleration", "dx_get_toleration", "rpc-trees"}, []string{"Traceback"}},
		{2, 200, []string{`<span class="j-masked"`, "2 masked", "4.2 s", `"192.0.2.17"`}, nil},
		{4, 200, []string{`badge o-error">error<`, "<summary>Traceback</summary>", "KeyError: &#39;zone&#39;", "212 ms"}, nil},
		{7, 200, []string{`badge o-failure">failure<`, "Server is locked by another operation", "15 ms"}, []string{"Traceback", ">success<"}},
		{12, 200, []string{`badge o-awaiting">awaiting<`, "No response yet", `data-events="events?`}, []string{"Responded</dt><dd>2026"}},
	}
	for _, tt := range tests {
		status, _, body := get(t, srv, "/pair?correlation_id="+corr(tt.n))
		if status != tt.status {
			t.Errorf("pair %d: status %d, want %d", tt.n, status, tt.status)
		}
		for _, s := range tt.want {
			if !strings.Contains(body, s) {
				t.Errorf("pair %d: page lacks %q", tt.n, s)
			}
		}
		for _, s := range tt.absent {
			if strings.Contains(body, s) {
				t.Errorf("pair %d: page holds %q", tt.n, s)
			}
		}
	}
	for path, want := range map[string]int{
		"/pair?correlation_id=nope": http.StatusNotFound,
		"/pair":                     http.StatusSeeOther,
		"/nope":                     http.StatusNotFound,
		"/static/style.css":         http.StatusOK,
		"/static/favicon.svg":       http.StatusOK,
		"/favicon.ico":              http.StatusSeeOther,
	} {
		if status, _, _ := get(t, srv, path); status != want {
			t.Errorf("%s: %d, want %d", path, status, want)
		}
	}
}

// failingStore fails every read, as a database that went away does.
type failingStore struct{ store.Store }

var errDown = errors.New("database is down")

func (failingStore) List(context.Context, store.Filter, int64, int) (store.Page, error) {
	return store.Page{}, errDown
}

func (failingStore) Get(context.Context, string) (store.Pair, bool, error) {
	return store.Pair{}, false, errDown
}

func TestStoreFailure(t *testing.T) {
	var logged []error
	srv := serve(t, failingStore{memory.New()}, Options{LogError: func(_ *http.Request, err error) { logged = append(logged, err) }})
	for _, path := range []string{"/", "/pair?correlation_id=x"} {
		status, _, body := get(t, srv, path)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "could not be read") {
			t.Errorf("%s: %d, want 503 saying the store could not be read", path, status)
		}
	}
	if len(logged) != 2 || !errors.Is(logged[0], errDown) {
		t.Errorf("logged %v, want the store's two errors", logged)
	}
}
