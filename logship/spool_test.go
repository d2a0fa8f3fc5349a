package logship

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

func readAll(t *testing.T, dir string) []Record {
	t.Helper()
	segs, err := segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for _, seq := range segs {
		f, err := os.Open(segmentPath(dir, seq))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("segment %d: %v", seq, err)
			}
			out = append(out, r)
		}
		_ = f.Close()
	}
	return out
}

func rec(i int) Record {
	return Record{Kind: KindRequest, Time: time.Unix(int64(i), 0).UTC(), CorrelationID: fmt.Sprint("id-", i), RequestPayload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		VirtualHostName: "v", QueueName: "q", RabbitMQUsername: "u", Hostname: "h", ExchangeName: "x"}
}

func TestSpoolRotationKeepsEverythingInOrder(t *testing.T) {
	root := t.TempDir()
	s, err := OpenSpool(root, "a/b", SpoolOptions{SegmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := s.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := VHostDir(root, "a/b")
	segs, _ := segments(dir)
	if len(segs) < 5 {
		t.Errorf("%d segments for 100 records of ~200 bytes at 1 KiB each, want rotation", len(segs))
	}
	for _, seq := range segs {
		st, _ := os.Stat(segmentPath(dir, seq))
		if st.Size() > 1024 {
			t.Errorf("segment %d is %d bytes, over the 1 KiB limit", seq, st.Size())
		}
	}
	got := readAll(t, dir)
	if len(got) != 100 {
		t.Fatalf("%d records, want 100", len(got))
	}
	for i, r := range got {
		if r.CorrelationID != fmt.Sprint("id-", i) {
			t.Fatalf("record %d is %s", i, r.CorrelationID)
		}
	}
	// Reopening appends to the newest segment.
	s, err = OpenSpool(root, "a/b", SpoolOptions{SegmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(rec(100)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if got := readAll(t, dir); len(got) != 101 || got[100].CorrelationID != "id-100" {
		t.Errorf("after reopening: %d records", len(got))
	}
}

func TestSpoolConcurrentAppends(t *testing.T) {
	root := t.TempDir()
	s, err := OpenSpool(root, "v", SpoolOptions{SegmentBytes: 4096, SyncInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := s.Append(rec(g*1000 + i)); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	_ = s.Close()
	got := readAll(t, VHostDir(root, "v"))
	seen := map[string]bool{}
	for _, r := range got {
		seen[r.CorrelationID] = true
	}
	if len(got) != 1600 || len(seen) != 1600 {
		t.Errorf("%d records, %d distinct; want 1600", len(got), len(seen))
	}
	if err := s.Append(rec(1)); err == nil {
		t.Error("append after close must fail")
	}
}

// BenchmarkSpoolAppend measures the cost of the fsync policy: records are
// written with one write(2) each and fsynced once a second (the default),
// against an fsync for every record.
func BenchmarkSpoolAppend(b *testing.B) {
	for _, bc := range []struct {
		name string
		sync time.Duration
	}{{"fsync_every_second", 0}, {"fsync_every_record", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := OpenSpool(b.TempDir(), "v", SpoolOptions{SyncInterval: bc.sync})
			if err != nil {
				b.Fatal(err)
			}
			r := rec(1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Append(r); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			_ = s.Close()
		})
	}
}
