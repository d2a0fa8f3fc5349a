package consumer

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestStreamStart(t *testing.T) {
	for _, tc := range []struct {
		next int64
		want any
	}{
		{-1, "first"},
		{0, int64(0)},
		{42, int64(42)},
	} {
		if got := streamStart(tc.next); got != tc.want {
			t.Errorf("streamStart(%d) = %#v, want %#v", tc.next, got, tc.want)
		}
	}
}

func TestStreamArguments(t *testing.T) {
	a := streamArguments()
	if a[amqp.QueueTypeArg] != "stream" || a[amqp.StreamMaxAgeArg] != "1h" || a[amqp.StreamMaxSegmentSizeBytesArg] == nil {
		t.Errorf("stream arguments = %v", a)
	}
	if got := outcomesStream("trees"); got != "trees.outcomes" {
		t.Errorf("outcomesStream = %q", got)
	}
}

func TestReadEntry(t *testing.T) {
	key := outcomeKey("dx_x", "cid-1", []byte(`{"a":1}`))
	reply := []byte(`{"success":true,"message":"ok","data":null}`)
	p, err := outcomeEntry(key, reply)
	if err != nil {
		t.Fatal(err)
	}
	asDelivery := func(p amqp.Publishing, offset any) amqp.Delivery {
		return amqp.Delivery{Type: p.Type, MessageId: p.MessageId, Body: p.Body, Headers: amqp.Table{streamOffsetHeader: offset}}
	}
	m := markerEntry("m1")
	for _, tc := range []struct {
		name string
		d    amqp.Delivery
		want streamEntry
	}{
		{"outcome", asDelivery(p, int64(7)), streamEntry{offset: 7, key: key, reply: reply}},
		{"marker", asDelivery(m, int32(8)), streamEntry{offset: 8, marker: "m1"}},
		{"no offset", amqp.Delivery{Type: m.Type, MessageId: "m2"}, streamEntry{offset: -1, marker: "m2"}},
		{"unknown type", asDelivery(amqp.Publishing{Type: "other"}, int64(9)), streamEntry{offset: 9, malformed: true}},
		{"not JSON", asDelivery(amqp.Publishing{Type: streamEntryOutcome, Body: []byte("{")}, int64(10)), streamEntry{offset: 10, malformed: true}},
		{"no key", asDelivery(amqp.Publishing{Type: streamEntryOutcome, Body: []byte(`{"reply":{}}`)}, int64(11)), streamEntry{offset: 11, malformed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readEntry(tc.d)
			if got.offset != tc.want.offset || got.marker != tc.want.marker || got.key != tc.want.key || string(got.reply) != string(tc.want.reply) || got.malformed != tc.want.malformed {
				t.Errorf("readEntry = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOutcomesLearn(t *testing.T) {
	reply := []byte(`{"success":true}`)
	t.Run("unknown: answered from it", func(t *testing.T) {
		c := newOutcomes(10)
		c.learn("k", reply)
		o, first := c.begin("k")
		if first || string(o.reply) != string(reply) {
			t.Errorf("begin after learn: first %v, reply %s", first, o.reply)
		}
	})
	t.Run("in progress here: kept as learned", func(t *testing.T) {
		c := newOutcomes(10)
		o, _ := c.begin("k")
		if _, ok := c.learnedFor("k"); ok {
			t.Fatal("learned before anything was read")
		}
		c.learn("k", reply)
		got, ok := c.learnedFor("k")
		if !ok || string(got) != string(reply) {
			t.Errorf("learnedFor = %s, %v", got, ok)
		}
		c.finish("k", o, got)
		if o2, first := c.begin("k"); first || string(o2.reply) != string(reply) {
			t.Errorf("after finish: first %v, reply %s", first, o2.reply)
		}
	})
	t.Run("finished here: kept as it is", func(t *testing.T) {
		c := newOutcomes(10)
		o, _ := c.begin("k")
		c.finish("k", o, []byte(`{"mine":true}`))
		c.learn("k", reply)
		if o2, _ := c.begin("k"); string(o2.reply) != `{"mine":true}` {
			t.Errorf("reply = %s", o2.reply)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		c := newOutcomes(2)
		for _, k := range []string{"a", "b", "c"} {
			c.learn(k, reply)
		}
		if n := c.len(); n != 2 {
			t.Errorf("%d outcomes remembered, want 2", n)
		}
	})
	t.Run("no key or no reply: ignored", func(t *testing.T) {
		c := newOutcomes(2)
		c.learn("", reply)
		c.learn("k", nil)
		if n := c.len(); n != 0 {
			t.Errorf("%d outcomes remembered, want 0", n)
		}
	})
}
