package consumer

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestLeaseQueue(t *testing.T) {
	name := regexp.MustCompile(`^trees\.lock\.[0-9a-f]{32}$`)
	long := strings.Repeat("x", 10000)
	keys := []string{"dx_lock", "dx_lock\x00onion", "dx_lock\x00orange", "dx_other\x00onion", "dx_lock\x00" + long, "dx_lock\x00ünï/cødé\n"}
	seen := map[string]string{}
	for _, k := range keys {
		q := leaseQueue("trees", k)
		if !name.MatchString(q) {
			t.Errorf("leaseQueue(%q) = %q, not <queue>.lock.<32 hex digits>", k, q)
		}
		if other, dup := seen[q]; dup {
			t.Errorf("keys %q and %q share lease queue %s", k, other, q)
		}
		seen[q] = k
		if again := leaseQueue("trees", k); again != q {
			t.Errorf("leaseQueue(%q) not stable: %s then %s", k, q, again)
		}
	}
	if leaseQueue("a", "k") == leaseQueue("b", "k") {
		t.Error("two queues share a lease queue")
	}
}

func TestLeaseDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{1, 2 * time.Millisecond},
		{2, 4 * time.Millisecond},
		{3, 8 * time.Millisecond},
		{6, 64 * time.Millisecond},
		{7, 100 * time.Millisecond},
		{8, 100 * time.Millisecond},
		{1000, 100 * time.Millisecond},
	} {
		if got := leaseDelay(tc.n); got != tc.want {
			t.Errorf("leaseDelay(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestLeaseHeld(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&amqp.Error{Code: amqp.ResourceLocked, Reason: "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue"}, true},
		{fmt.Errorf("declare: %w", &amqp.Error{Code: amqp.ResourceLocked}), true},
		{&amqp.Error{Code: amqp.PreconditionFailed}, false},
		{amqp.ErrClosed, false},
		{errors.New("other"), false},
		{nil, false},
	} {
		if got := leaseHeld(tc.err); got != tc.want {
			t.Errorf("leaseHeld(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestHeldLocksReleaseLastFirst(t *testing.T) {
	var order []string
	var h heldLocks
	h.add(func() { order = append(order, "in-process") })
	h.add(func() { order = append(order, "lease") })
	h.releaseAll()
	h.releaseAll() // released once
	if got := strings.Join(order, ","); got != "lease,in-process" {
		t.Errorf("released %s, want lease,in-process", got)
	}
}

func TestLeaseNodes(t *testing.T) {
	three := []string{"a:1", "b:1", "c:1"}
	tests := []struct {
		name  string
		addrs []string
		node  string
		want  []string
	}{
		{"one node", []string{"a:1"}, "a:1", []string{"a:1"}},
		{"first node: the next ones, then itself", three, "a:1", []string{"b:1", "c:1", "a:1"}},
		{"middle node", three, "b:1", []string{"c:1", "a:1", "b:1"}},
		{"last node wraps", three, "c:1", []string{"a:1", "b:1", "c:1"}},
		{"a node not listed comes first", three, "x:1", []string{"x:1", "a:1", "b:1", "c:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := leaseNodes(tt.addrs, tt.node); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("leaseNodes(%v, %q) = %v, want %v", tt.addrs, tt.node, got, tt.want)
			}
		})
	}
}
