// Package testbrowser starts Debian's chromium, headless, for tests that
// look at a web interface in a real browser (chromedp), and keeps their
// screenshots.
package testbrowser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Binary is the browser the tests run: Debian's chromium
// (scripts/ensure-deps.sh installs it).
const Binary = "chromium"

// UpdateEnv names the environment variable that makes Screenshot write
// the screenshots kept under docs/images (UPDATE_SCREENSHOTS=1).
const UpdateEnv = "UPDATE_SCREENSHOTS"

// New starts a fresh headless chromium (its own profile directory, no
// network of its own: no updates, no sync, no QUIC) and returns a chromedp
// context bounded by timeout. The browser stops when the test ends.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path, err := exec.LookPath(Binary)
	if err != nil {
		t.Fatalf("%s not found: run `make deps` (scripts/ensure-deps.sh installs it): %v", Binary, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc() // waits for the browser to exit
	})
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", Binary, err)
	}
	return ctx
}

// Screenshot writes png to path (relative to the test's package) when
// UPDATE_SCREENSHOTS=1, and otherwise only checks it is a PNG.
func Screenshot(t testing.TB, path string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(png))
	}
	if os.Getenv(UpdateEnv) != "1" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write the screenshot: %v", err)
	}
	t.Logf("wrote %s", path)
}
