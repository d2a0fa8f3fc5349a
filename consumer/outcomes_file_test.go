package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/handler"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/wire"
)

func TestOutcomesFile(t *testing.T) {
	path := outcomesPath(t.TempDir(), "a/vhost")
	if filepath.Base(path) != "a%2Fvhost.outcomes" {
		t.Errorf("path = %s", path)
	}
	c := newOutcomes(3)
	if _, err := openOutcomes(path, c); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		k := fmt.Sprint("k", i)
		o, _ := c.begin(k)
		c.finish(k, o, []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	_ = c.store.close()
	// A torn last line, as a crash mid-write leaves it.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"key":"k9","rep`)
	_ = f.Close()

	again := newOutcomes(3)
	if _, err := openOutcomes(path, again); err != nil {
		t.Fatal(err)
	}
	defer again.store.close()
	for i, want := range []string{"", "", `{"n":2}`, `{"n":3}`, `{"n":4}`} {
		o, first := again.begin(fmt.Sprint("k", i))
		if want == "" {
			if !first {
				t.Errorf("k%d should have been forgotten", i)
			}
			continue
		}
		if first || string(o.reply) != want {
			t.Errorf("k%d: first=%v reply=%s, want %s", i, first, o.reply, want)
		}
	}
	// Loading compacted the file to what is remembered.
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("file has %d lines after compaction, want 3:\n%s", n, b)
	}
}

// TestOutcomeSurvivesACrash: a consumer runs a request's handler and dies
// before acknowledging it; the next consumer gets the redelivery and
// answers it from the outcomes file without running the handler again.
func TestOutcomeSurvivesACrash(t *testing.T) {
	state := t.TempDir()
	var runs atomic.Int32
	handlers := map[string]handler.Handler{"dx_once": handler.Typed("count runs", func(_ context.Context, _ *handler.Call, r lockRequest) (wire.Reply[lockRequest], error) {
		runs.Add(1)
		return wire.Reply[lockRequest]{Success: true, Message: "ran", Data: r}, nil
	})}
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	reached := make(chan struct{}, 1)
	first := start(t, setup{exchanges: []string{"dx_once"}, handlers: handlers, stateDir: state, drain: 100 * time.Millisecond,
		before: func(c *Consumer) {
			c.testHookSettle = func() { reached <- struct{}{}; <-block } // dies between outcome and acknowledgement
		}})
	c := first.caller(false)
	_, reply := c.Send("dx_once", first.queue(), []byte(`{"food":"x","n":7}`), amqpPublishing())
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler did not finish")
	}
	if err := first.stop(); err == nil {
		t.Fatal("the first consumer must give up on its blocked request")
	}
	second := start(t, setup{exchanges: []string{"dx_once"}, handlers: handlers, stateDir: state, vh: first.vh})
	r := c.Wait(reply)
	if !r.Success || r.Message != "ran" || string(r.Data) != `{"food":"x","n":7}` {
		t.Fatalf("reply = %+v %s", r, r.Data)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if !strings.Contains(second.logs.String(), "loaded the outcomes of recent requests") || !strings.Contains(second.logs.String(), "answering from its first run") {
		t.Errorf("second consumer's log:\n%s", second.logs.String())
	}
}

func TestAppendOutcomeLine(t *testing.T) {
	for _, key := range []string{
		"dx_a\x00id-1\x00abcdef",
		`quote " and backslash \ and tab	and newline
`,
		"\x01\x1f unicode é ✓",
		"invalid \xff utf-8",
	} {
		reply := []byte(`{"success":true,"message":"m","data":{"a":[1,2]}}`)
		line := appendOutcomeLine(nil, key, reply)
		if line[len(line)-1] != '\n' {
			t.Fatalf("%q: line does not end with a newline", key)
		}
		var got outcomeLine
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %s: %v", key, line, err)
		}
		// The key reads back as encoding/json would have written it
		// (invalid UTF-8 replaced).
		var want outcomeLine
		b, _ := json.Marshal(outcomeLine{Key: key, Reply: reply})
		_ = json.Unmarshal(b, &want)
		if got.Key != want.Key || string(got.Reply) != string(reply) {
			t.Errorf("%q: read back %q %s from %s", key, got.Key, got.Reply, line)
		}
	}
}

// TestOutcomesFileConcurrentAppends: appends from many workers at once are
// all in the file when each returns, however they were grouped.
func TestOutcomesFileConcurrentAppends(t *testing.T) {
	path := outcomesPath(t.TempDir(), "v")
	c := newOutcomes(100000)
	if _, err := openOutcomes(path, c); err != nil {
		t.Fatal(err)
	}
	const workers, each = 16, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				k := fmt.Sprintf("k%d-%d", w, i)
				o, _ := c.begin(k)
				c.finish(k, o, []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)))
				if i == each-1 {
					// This worker's last outcome is in the file now.
					b, err := os.ReadFile(path)
					if err != nil || !strings.Contains(string(b), fmt.Sprintf(`{"key":%q,"reply":{"w":%d,"i":%d}}`, k, w, i)) {
						t.Errorf("%s is not in the file when finish returned", k)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	if err := c.store.close(); err != nil {
		t.Fatal(err)
	}
	again := newOutcomes(100000)
	if _, err := openOutcomes(path, again); err != nil {
		t.Fatal(err)
	}
	defer again.store.close()
	if n := again.len(); n != workers*each {
		t.Errorf("loaded %d outcomes, want %d", n, workers*each)
	}
}

// TestOutcomesFileRunsOutOfSpace: when the mapped space is used up, the
// file is rewritten with the remembered outcomes and more room.
func TestOutcomesFileRunsOutOfSpace(t *testing.T) {
	path := outcomesPath(t.TempDir(), "v")
	c := newOutcomes(3)
	if _, err := openOutcomes(path, c); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 300<<10)
	for i := 0; i < 40; i++ { // 12 MB of lines through a 4 MB file
		k := fmt.Sprint("k", i)
		o, _ := c.begin(k)
		c.finish(k, o, []byte(fmt.Sprintf(`{"i":%d,"pad":%q}`, i, big)))
	}
	if err := c.store.close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() > 8<<20 {
		t.Fatalf("file size %v (%v), want at most twice the remembered outcomes", st.Size(), err)
	}
	again := newOutcomes(3)
	if _, err := openOutcomes(path, again); err != nil {
		t.Fatal(err)
	}
	defer again.store.close()
	for i := 37; i < 40; i++ {
		if o, first := again.begin(fmt.Sprint("k", i)); first || !strings.HasPrefix(string(o.reply), fmt.Sprintf(`{"i":%d,`, i)) {
			t.Errorf("k%d was not kept", i)
		}
	}
}

// TestOutcomesFileTornLine: a line the process was copying when it died
// (followed by the file's unused zeros) is skipped.
func TestOutcomesFileTornLine(t *testing.T) {
	path := outcomesPath(t.TempDir(), "v")
	c := newOutcomes(10)
	if _, err := openOutcomes(path, c); err != nil {
		t.Fatal(err)
	}
	o, _ := c.begin("k1")
	c.finish("k1", o, []byte(`{"n":1}`))
	_ = c.store.close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := strings.IndexByte(string(b), 0)
	if end < 0 {
		t.Fatal("no unused space in the file")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(`{"key":"k2","rep`), int64(end)); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	again := newOutcomes(10)
	if _, err := openOutcomes(path, again); err != nil {
		t.Fatal(err)
	}
	defer again.store.close()
	if o, first := again.begin("k1"); first || string(o.reply) != `{"n":1}` {
		t.Errorf("k1: first=%v reply=%s", first, o.reply)
	}
	if _, first := again.begin("k2"); !first {
		t.Error("the torn k2 was loaded")
	}
}

// BenchmarkOutcomesRewrite measures a rewrite of a full outcomes file
// (DefaultOutcomes lines), during which appends wait.
func BenchmarkOutcomesRewrite(b *testing.B) {
	c := newOutcomes(DefaultOutcomes)
	of, err := openOutcomes(outcomesPath(b.TempDir(), "v"), c)
	if err != nil {
		b.Fatal(err)
	}
	defer of.close()
	for i := 0; i < DefaultOutcomes; i++ {
		k := fmt.Sprintf("dx_echo\x00id-%d\x000123456789abcdef0123456789abcdef", i)
		o, _ := c.begin(k)
		c.finish(k, o, []byte(`{"success":true,"message":"echo","data":{"n":12345,"payload":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`))
	}
	lines := c.snapshot()
	for b.Loop() {
		of.mu.Lock()
		err := of.rewrite(lines, 0)
		of.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}
