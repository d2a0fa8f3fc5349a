package gui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbrowser"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

// stepTimeout bounds one browser step.
const stepTimeout = 20 * time.Second

// browserTimeout bounds the whole browser test.
const browserTimeout = 3 * time.Minute

// browser is a headless chromium tab with what it reported: dialogs
// (alert, confirm) and uncaught JavaScript exceptions.
type browser struct {
	ctx        context.Context
	mu         sync.Mutex
	dialogs    []string
	exceptions []string
}

// newBrowser starts a fresh headless chromium for the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	b := &browser{ctx: testbrowser.New(t, browserTimeout)}
	if err := chromedp.Listen(b.ctx, b.record); err != nil {
		t.Fatalf("listen to chromium: %v", err)
	}
	return b
}

// record keeps the events that mean a page misbehaved. It runs on the
// tab's reading goroutine, so it only stores.
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *cdppage.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, fmt.Sprintf("%s %q", e.Type, e.Message))
	case *runtime.EventExceptionThrown:
		b.exceptions = append(b.exceptions, e.ExceptionDetails.Text+" "+e.ExceptionDetails.URL)
	}
}

// misbehaviour says what the pages did that they must not, or "".
func (b *browser) misbehaviour() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	if len(b.dialogs) > 0 {
		out = append(out, "a page opened dialogs (a script ran): "+strings.Join(b.dialogs, ", "))
	}
	if len(b.exceptions) > 0 {
		out = append(out, "JavaScript exceptions: "+strings.Join(b.exceptions, ", "))
	}
	return strings.Join(out, "; ")
}

// step runs one named step of the test, with a deadline.
func (b *browser) step(t *testing.T, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v %s", name, err, b.misbehaviour())
	}
	if m := b.misbehaviour(); m != "" {
		t.Fatalf("%s: %s", name, m)
	}
}

// until waits for a JavaScript condition to hold (no sleeps: the browser
// re-evaluates it on each animation frame).
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(stepTimeout))(ctx, t); err != nil {
			return fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return nil
	})
}

// loads runs actions that load another page (a click on a link or a
// submit button) and waits until it has loaded.
func loads(actions ...chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.RunResponse(ctx, actions...)
		return err
	})
}

// shownRows is a JavaScript expression: the correlation ids the list
// shows, as JSON.
const shownRows = `JSON.stringify(Array.from(document.querySelectorAll("#rows td.corr a"), a => a.textContent))`

// shownProgress is a JavaScript expression: the progress updates the pair
// page lists (time, state, message, percent), as JSON.
const shownProgress = `JSON.stringify(Array.from(document.querySelectorAll("#progress li"), li => ` +
	`[".progress time", ".state", ".pmsg", ".pct"].map(s => li.querySelector(s.replace(".progress ", "")).textContent)))`

// rowsAre is a condition: the list shows exactly these correlation ids.
func rowsAre(ids ...string) chromedp.Action[chromedp.Void] {
	want, _ := json.Marshal(ids)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[chromedp.Void](shownRows+` === `+jsString(string(want)), chromedp.WithPollingTimeout(stepTimeout))(ctx, t)
		if err != nil {
			got, _ := chromedp.Evaluate[string](shownRows)(context.WithoutCancel(ctx), t)
			return fmt.Errorf("the list shows %s, want %s: %w", got, want, err)
		}
		return nil
	})
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// screenshot captures the page and, with UPDATE_SCREENSHOTS=1, writes it
// to docs/images/name.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	testbrowser.Screenshot(t, filepath.Join("..", "..", "docs", "images", name), png)
}

func TestBrowser(t *testing.T) {
	st, clk := newSeeded(t)
	const password = "browser-test"
	srv := httptest.NewServer(New(st, Options{Now: clk.Now, Password: password, PollInterval: 50 * time.Millisecond}))
	t.Cleanup(srv.Close) // after the browser is gone: cleanups run last first
	b := newBrowser(t)
	// Basic authentication as a browser that was given the password.
	auth := network.Headers{"Authorization": "Basic " + basic("operator", password)}
	b.step(t, "authenticate", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: auth})
		return err
	}))

	b.step(t, "open the list",
		chromedp.EmulateViewport(1360, 900),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#rows tr")),
		rowsAre(corrs(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)...),
		until(`document.querySelector("#live.on") !== null`), // the live view connected
	)
	b.screenshot(t, "log-server-list.png")

	b.step(t, "the list fits a phone's screen",
		chromedp.EmulateViewport(390, 844),
		until(`document.documentElement.scrollWidth <= window.innerWidth`),
	)
	b.step(t, "back to a desktop screen", chromedp.EmulateViewport(1360, 900))

	b.step(t, "filter by exchange and outcome",
		chromedp.SetValue(chromedp.CSS(`input[name="exchange_name"]`), "dx_delete_server"),
		chromedp.Click(chromedp.CSS(`input[name="outcome"][value="failure"]`)),
		loads(chromedp.Click(chromedp.CSS(`.actions button[type="submit"]`))),
		rowsAre(corr(7)),
		until(`location.search === "?exchange_name=dx_delete_server&outcome=failure"`),
		until(`document.querySelector('[data-count="error"]').textContent === "1"`),
	)

	b.step(t, "search a correlation id by prefix",
		loads(chromedp.Click(chromedp.CSS(`a.clear`))),
		rowsAre(corrs(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)...),
		chromedp.SetValue(chromedp.ID("q"), corr(6)[:8]),
		chromedp.Click(chromedp.CSS(`input[name="prefix"]`)),
		loads(chromedp.Click(chromedp.CSS(`.search button[type="submit"]`))),
		rowsAre(corr(6)),
	)

	b.step(t, "open the pair",
		loads(chromedp.Click(chromedp.CSS(`#rows td.corr a`))),
		chromedp.WaitVisible(chromedp.CSS(`.sides`)),
		until(`document.getElementById("corr").textContent === `+jsString(corr(6))),
		until(`document.querySelector(".facts .duration").textContent === "27 ms"`),
		until(`document.querySelector("#response .j-bool").textContent === "true"`),
	)

	b.step(t, "a pair with a traceback and masked values",
		chromedp.Navigate(srv.URL+"/pair?correlation_id="+corr(4)),
		chromedp.WaitVisible(chromedp.CSS(`.traceback pre`)),
		until(`document.querySelector(".pair-head .badge").textContent === "error"`),
		until(`document.querySelectorAll("#request .json .j-masked").length === 1`),
	)
	b.screenshot(t, "log-server-pair.png")

	b.step(t, "a long request's progress, in order",
		chromedp.Navigate(srv.URL+"/pair?correlation_id="+corr(2)),
		chromedp.WaitVisible(chromedp.CSS(`#progress li`)),
		until(shownProgress+` === `+jsString(`[`+
			`["2026-11-30 09:01:37.040","Queued","waiting for the hypervisor",""],`+
			`["2026-11-30 09:01:37.310","Creating","allocating a 40 GB volume","10 %"],`+
			`["2026-11-30 09:01:38.250","Copying","copying image <b>ubuntu-24.04</b>","45 %"],`+
			`["2026-11-30 09:01:40.020","Booting","waiting for the console","80 %"],`+
			`["2026-11-30 09:01:41.150","Done","server web-17 is active","100 %"]]`)),
		until(`document.querySelectorAll("#progress b").length === 0`), // the message's markup is text
		until(`document.querySelector("#progress .pdata").textContent === '{"bytes_copied":1932735283}'`),
	)
	b.screenshot(t, "log-server-progress.png")

	b.step(t, "open an awaiting request",
		chromedp.Navigate(srv.URL+"/pair?correlation_id="+corr(12)),
		chromedp.WaitVisible(chromedp.CSS(`.awaiting`)),
		until(`document.getElementById("progress").hidden`),                                 // no progress yet
		until(`document.querySelector(".awaiting").textContent.includes("waiting for it")`), // the script watches it
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`window.notReloaded = true`)(ctx, tg)
			return err
		}),
	)
	for i, state := range []string{"Stopping", "Wiping <disks>"} {
		err := st.AddProgress(context.Background(), wire.LogProgress{CorrelationID: corr(12), Time: at(12).Add(time.Duration(i+1) * time.Second), State: state, Message: "step " + fmt.Sprint(i+1)})
		if err != nil {
			t.Fatal(err)
		}
		b.step(t, "see its progress arrive: "+state,
			until(`document.querySelectorAll("#progress li").length === `+fmt.Sprint(i+1)),
			until(`!document.getElementById("progress").hidden`),
			until(`document.querySelector("#progress li:last-child .state").textContent === `+jsString(state)),
			until(`document.querySelector("#progress .count").textContent === "`+fmt.Sprint(i+1)+` update`+map[bool]string{true: "", false: "s"}[i == 0]+`"`),
			until(`window.notReloaded === true`),
		)
	}

	b.step(t, "a success: false response without a traceback is a failure",
		chromedp.Navigate(srv.URL+"/pair?correlation_id="+corr(7)),
		chromedp.WaitVisible(chromedp.CSS(`.sides`)),
		until(`document.querySelector(".pair-head .badge").textContent === "failure"`),
		until(`document.querySelector(".traceback") === null`),
	)

	b.step(t, "a payload holding <script> shows as text",
		chromedp.Navigate(srv.URL+"/pair?correlation_id="+corr(8)),
		chromedp.WaitVisible(chromedp.CSS(`#request .json`)),
		until(`document.querySelector("#request .json").textContent.includes(`+jsString(xssPayload)+`)`),
		until(`document.querySelector(".pair-head .message").textContent === "Noted <img src=x onerror=alert(2)>"`),
		until(`document.querySelectorAll("script").length === 1 && document.querySelectorAll("img").length === 1`),
	)

	b.step(t, "without JavaScript: filter, page and open a pair",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		chromedp.Navigate(srv.URL+"/?limit=5"),
		chromedp.WaitVisible(chromedp.CSS("#rows tr")),
		until(`document.getElementById("live").hidden`), // the live view needs the script
		chromedp.SetValue(chromedp.CSS(`input[name="virtual_host_name"]`), "trees"),
		loads(chromedp.Click(chromedp.CSS(`.actions button[type="submit"]`))),
		rowsAre(corrs(11, 10, 8, 6, 5)...),
		loads(chromedp.Click(chromedp.CSS(`a.older`))),
		rowsAre(corrs(3, 1)...),
		loads(chromedp.Click(chromedp.CSS(`#rows td.corr a`))),
		chromedp.WaitVisible(chromedp.CSS(`#request .json details[open]`)),
		chromedp.Click(chromedp.CSS(`#request .json summary`)), // <details> folds without JavaScript
		until(`!document.querySelector("#request .json details").open`),
		until(`document.querySelector("button.copy").hidden`),
		chromedp.Navigate(srv.URL+"/pair?correlation_id="+corr(2)), // the progress is served in the page
		until(`document.querySelectorAll("#progress li").length === `+fmt.Sprint(len(progressSteps))),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false})
			return err
		}),
	)

	b.step(t, "open the live view",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#rows tr")),
		until(`document.querySelector("#live.on") !== null`),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`window.notReloaded = true`)(ctx, tg)
			return err
		}),
	)
	// A request arrives while the page is open, then its response.
	live := fixture{Corr: "live-" + corr(1)[:8], VHost: "trees", Exchange: "dx_create_tree", Host: "consumer-03", Request: `{"species": "<script>alert('live')</script>"}`}
	addFixture(t, st, live)
	b.step(t, "see the new request appear",
		chromedp.WaitVisible(chromedp.ID("pair-13")),
		until(`document.querySelector("#rows tr").id === "pair-13"`),
		until(`document.querySelector("#pair-13 td.corr").textContent === `+jsString(live.Corr)),
		until(`document.querySelector("#pair-13 .badge").textContent === "awaiting"`),
		until(`document.querySelector('[data-count="total"]').textContent === "13"`),
		until(`window.notReloaded === true`),
	)
	err := st.AddResponse(context.Background(), wire.LogResponse{CorrelationID: live.Corr, ResponsePayload: json.RawMessage(`{"success": true, "message": "Tree planted", "data": null}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.step(t, "see its response arrive",
		chromedp.WaitVisible(chromedp.CSS("#pair-13 .badge.o-success")),
		until(`document.querySelector("#pair-13 td.msg").textContent === "Tree planted"`),
		until(`document.querySelector('[data-count="awaiting"]').textContent === "1"`),
		until(`window.notReloaded === true`),
	)
	if m := b.misbehaviour(); m != "" {
		t.Fatal(m)
	}
}
