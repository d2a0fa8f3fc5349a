package docscli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbrowser"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// serve runs `rabbitmq-consumer-docs serve` on a free port until the test
// ends, and returns its base URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan int, 1)
	var stderr testutil.SyncBuffer
	go func() {
		done <- Main(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), io.Discard, &stderr, func(a string) { addrs <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if st := <-done; st != ExitOK {
			t.Errorf("serve exited %d: %s", st, stderr.String())
		}
	})
	select {
	case a := <-addrs:
		return "http://" + a
	case st := <-done:
		done <- st
		t.Fatalf("serve exited %d before listening: %s", st, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not listen within 10s: %s", stderr.String())
	}
	return ""
}

// In a real browser: the index lists the example handlers, and an action
// page shows its fields, constraints, examples and how to call it.
func TestBrowser(t *testing.T) {
	opts := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opts) }) // runs last: after the server and the browser stopped
	base := serve(t, "--handlers-directory", "../examples/handlers", "--config-file-path", "../etc/rabbitmq.yml")
	ctx := testbrowser.New(t, 60*time.Second)

	if _, err := chromedp.Run(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the index: %v", err)
	}
	index, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dx_example", "dx_example_oneshot", "Determine whether a favourite food is tolerable", "example"} {
		if !strings.Contains(index, want) {
			t.Errorf("the index lacks %q:\n%s", want, index)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Click(`a[href="actions/dx_example.html"]`)); err != nil {
		t.Fatalf("follow the link to dx_example: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible("#request")); err != nil {
		t.Fatalf("the action page: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"favourite_food", "chance_percentage", "tolerable", // fields
		`one of: "onion", "orange", "banana"`, "> 0", "No other fields are accepted", // constraints
		"required", "20", // required, default
		"requests with the same favourite_food run one at a time", "30s", "persistent processes", // lock, timeout, mode
		"virtual host example, queue (routing key) example", // from the configuration
		`"chance_percentage": 100`, `"tolerable": false`,    // examples
		"Request validation failed", "An unexpected error occurred", // failures
		"rabbitmq-rpc --virtual-host-name example --exchange dx_example", "client.CallTyped[actions.DxExampleRequest, actions.DxExampleResponse]",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the action page lacks %q:\n%s", want, page)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	testbrowser.Screenshot(t, "../docs/images/docs-server-action.png", png)
}

// The schema endpoints answer as the reference documentation server's.
func TestServeSchemas(t *testing.T) {
	base := serve(t, "--handlers-directory", "../examples/handlers")
	for path, want := range map[string]string{
		"/schemas":                 `["dx_example.json","dx_example_oneshot.json","head.json"]`,
		"/schemas/dx_example.json": `"request_model"`,
		"/schemas/head.json":       `"$ref": "dx_example_oneshot.json"`,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(want)) {
			t.Errorf("GET %s: %s, want %q in:\n%.300s", path, resp.Status, want, body)
		}
	}
}
