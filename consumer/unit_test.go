package consumer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	amqp "github.com/rabbitmq/amqp091-go"
)

func TestLockTable(t *testing.T) {
	lt := newLockTable()
	unlock, err := lt.lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free.
	unlockB, err := lt.lock(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// The same key waits, and gives up when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := lt.lock(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock of a held key = %v, want deadline exceeded", err)
	}
	got := make(chan func())
	go func() {
		u, _ := lt.lock(context.Background(), "a")
		got <- u
	}()
	unlock()
	(<-got)()
	if n := lt.size(); n != 0 {
		t.Errorf("lock table keeps %d keys after all unlocked, want 0", n)
	}
}

func TestOutcomes(t *testing.T) {
	oc := newOutcomes(2)
	k1 := outcomeKey("ex", "id1", []byte("{}"))
	o, first := oc.begin(k1)
	if !first {
		t.Fatal("first begin must run")
	}
	o2, first2 := oc.begin(k1)
	if first2 || o2 != o {
		t.Fatal("second begin of a running key must wait for the first")
	}
	oc.finish(k1, o, []byte("reply"))
	<-o2.finished
	if string(o2.reply) != "reply" {
		t.Fatalf("reply = %q", o2.reply)
	}
	// Different body or exchange: a different request.
	if outcomeKey("ex", "id1", []byte(`{"a":1}`)) == k1 || outcomeKey("ex2", "id1", []byte("{}")) == k1 {
		t.Error("keys must differ by body and exchange")
	}
	if outcomeKey("ex", "", []byte("{}")) != "" {
		t.Error("no correlation id, no key")
	}
	// Bounded: the oldest finished outcome is forgotten.
	for _, id := range []string{"id2", "id3"} {
		k := outcomeKey("ex", id, nil)
		o, _ := oc.begin(k)
		oc.finish(k, o, []byte(id))
	}
	if _, first := oc.begin(k1); !first {
		t.Error("the oldest outcome must have been evicted")
	}
	if n := oc.len(); n != 3 {
		t.Errorf("len = %d, want 2 finished + 1 running", n)
	}
	// Abandoned: waiters wake with no reply and the key is free again.
	ka := outcomeKey("ex", "ab", nil)
	oa, _ := oc.begin(ka)
	wa, _ := oc.begin(ka)
	oc.abandon(ka, oa)
	<-wa.finished
	if !wa.abandoned || wa.reply != nil {
		t.Error("an abandoned outcome must say so, with no reply")
	}
	// Finished without a reply (a request without reply_to) is not abandoned.
	kn := outcomeKey("ex", "noreply", nil)
	on, _ := oc.begin(kn)
	oc.finish(kn, on, nil)
	if on.abandoned {
		t.Error("a run finished without a reply is not abandoned")
	}
	if _, first := oc.begin(ka); !first {
		t.Error("an abandoned key must run again")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	max := func(n int64) int64 { return n - 1 }
	zero := func(int64) int64 { return 0 }
	tests := []struct {
		n        int
		rnd      func(int64) int64
		min, max time.Duration
	}{
		{1, zero, 50 * time.Millisecond, 50 * time.Millisecond},
		{1, max, 100 * time.Millisecond, 100 * time.Millisecond},
		{3, max, 400 * time.Millisecond, 400 * time.Millisecond},
		{3, zero, 200 * time.Millisecond, 200 * time.Millisecond},
		{10, max, time.Second, time.Second},
		{50, zero, 500 * time.Millisecond, 500 * time.Millisecond},
		{5, nil, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		d := b.Delay(tt.n, tt.rnd)
		if d < tt.min || d > tt.max {
			t.Errorf("Delay(%d) = %v, want in [%v, %v]", tt.n, d, tt.min, tt.max)
		}
	}
}

func TestDecryptFields(t *testing.T) {
	var k, other fernet.Key
	_ = k.Generate()
	_ = other.Generate()
	tok, _ := fernet.EncryptAndSign([]byte("s3cret"), &k)
	foreign, _ := fernet.EncryptAndSign([]byte("x"), &other)
	obj := map[string]any{"pw": string(tok), "other": string(foreign), "n": json.Number("3"), "plain": "gAAAAA-not-a-token-but-long-enough-to-be-checked-xxxxxxxx", "nested": map[string]any{"pw": string(tok)}}
	got := decryptFields(obj, []*fernet.Key{&k})
	if fmt.Sprint(got) != "[pw]" || obj["pw"] != "s3cret" || obj["other"] != string(foreign) {
		t.Fatalf("decrypted %v, obj %v", got, obj)
	}
	if obj["nested"].(map[string]any)["pw"] != string(tok) {
		t.Error("only top-level strings are decrypted")
	}
	m := string(masked(obj, got))
	if want := `"pw":"*****"`; !strings.Contains(m, want) || strings.Contains(m, "s3cret") {
		t.Errorf("masked = %s", m)
	}
	if decryptFields(obj, nil) != nil {
		t.Error("no key, no decryption")
	}
}

func TestClassifyDial(t *testing.T) {
	tests := []struct {
		err     error
		refused bool
	}{
		{&amqp.Error{Code: amqp.AccessRefused, Reason: "ACCESS_REFUSED"}, true},
		{&amqp.Error{Code: amqp.NotAllowed, Reason: "vhost x not found"}, true},
		{amqp.ErrCredentials, true},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
		{amqp.ErrClosed, false},
		{tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, true},
	}
	for _, tt := range tests {
		err := classifyDial("h:1", "v", tt.err)
		var r *BrokerRefusedError
		if errors.As(err, &r) != tt.refused {
			t.Errorf("classifyDial(%v) = %v, refused = %v", tt.err, err, !tt.refused)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("classifyDial(%v) lost the cause", tt.err)
		}
	}
}

func TestOutcomesByteBudget(t *testing.T) {
	oc := newOutcomes(100)
	big := make([]byte, maxOutcomeBytes/2+1)
	for i := 0; i < 3; i++ {
		k := fmt.Sprint("k", i)
		o, _ := oc.begin(k)
		oc.finish(k, o, big)
	}
	if n := oc.len(); n != 1 {
		t.Errorf("remembered %d replies of half the budget each, want 1", n)
	}
}

func TestMaskSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"data":{"echo":"hunter2"}}`, `{"data":{"echo":"*****"}}`},
		{`{"message":"password hunter2 rejected","data":["x","hunter2"]}`, `{"data":["x","*****"],"message":"password ***** rejected"}`},
		{`{"data":{"n":1}}`, `{"data":{"n":1}}`},
	}
	for _, tt := range tests {
		if got := string(maskSecrets([]byte(tt.in), []string{"hunter2"})); got != tt.want {
			t.Errorf("maskSecrets(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
