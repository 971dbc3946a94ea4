package boltqueue

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/queuetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func open(t *testing.T, path string, opts Options) *Queue {
	t.Helper()
	q, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestContract(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Harness {
		clock := newClock()
		path := filepath.Join(t.TempDir(), "queue.db")
		opts := Options{MaxReceiveCount: 3, Now: clock.Now}
		q := open(t, path, opts)
		cur := q
		t.Cleanup(func() { cur.Close() })
		return queuetest.Harness{
			Queue:           q,
			MaxReceiveCount: 3,
			Advance:         clock.Advance,
			Reopen: func(t *testing.T) queue.Queue {
				if err := cur.Close(); err != nil {
					t.Fatal(err)
				}
				cur = open(t, path, opts)
				return cur
			},
		}
	})
}

// TestContractRealClock runs the suite the way the AWS servers run it: on
// the real clock with one-second visibility timeouts and short sleeps.
func TestContractRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real-clock run sleeps for a few seconds")
	}
	queuetest.Run(t, func(t *testing.T) queuetest.Harness {
		q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{MaxReceiveCount: 3})
		t.Cleanup(func() { q.Close() })
		return queuetest.Harness{Queue: q, MaxReceiveCount: 3, Step: 200 * time.Millisecond}
	})
}

func TestDefaultVisibility(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Options{VisibilityTimeout: time.Minute, Now: clock.Now})
	defer q.Close()
	if _, err := q.SendBatch(ctx, []queue.SendEntry{{ID: "a", Body: "x"}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := q.Receive(ctx, 1, 0, 0); len(m) != 1 {
		t.Fatal("not received")
	}
	clock.Advance(59 * time.Second)
	if m, _ := q.Receive(ctx, 1, 0, 0); len(m) != 0 {
		t.Fatal("visible before the default timeout")
	}
	clock.Advance(time.Second)
	if m, _ := q.Receive(ctx, 1, 0, 0); len(m) != 1 || m[0].ReceiveCount != 2 {
		t.Fatalf("after the default timeout: %+v", m)
	}
}

// A long poll wakes when a hidden message's timeout passes, without a send.
func TestLongPollWakesOnVisibilityExpiry(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	defer q.Close()
	if _, err := q.SendBatch(ctx, []queue.SendEntry{{ID: "a", Body: "x"}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := q.Receive(ctx, 1, 50*time.Millisecond, 0); len(m) != 1 {
		t.Fatal("not received")
	}
	m, err := q.Receive(ctx, 1, time.Minute, 10*time.Second)
	if err != nil || len(m) != 1 || m[0].ReceiveCount != 2 {
		t.Fatalf("long poll over an expiring message: %+v %v", m, err)
	}
}

func TestSecondProcessLockIsTransient(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	q := open(t, path, Options{})
	defer q.Close()
	_, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if !fault.Is(err, fault.Transient) {
		t.Fatalf("second open: %v, want Transient", err)
	}
}

func TestDLQKeepsMessageAndPeek(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Options{MaxReceiveCount: 1, Now: clock.Now})
	defer q.Close()
	if _, err := q.SendBatch(ctx, []queue.SendEntry{{ID: "a", Body: "poison", Attributes: map[string]string{"k": "v"}}}); err != nil {
		t.Fatal(err)
	}
	first, _ := q.Receive(ctx, 1, time.Second, 0)
	clock.Advance(time.Second)
	if m, _ := q.Receive(ctx, 1, time.Second, 0); len(m) != 0 {
		t.Fatalf("delivered past MaxReceiveCount: %+v", m)
	}
	dead, err := q.dlq.Peek(ctx, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DLQ peek: %+v %v", dead, err)
	}
	if dead[0].MessageID != first[0].MessageID || dead[0].Attributes["k"] != "v" || dead[0].ReceiveCount != 1 {
		t.Errorf("dead-lettered %+v, want id, attributes and count kept", dead[0])
	}
	// A handle from the main queue is not valid on the DLQ.
	if err := q.dlq.Delete(ctx, first[0].ReceiptHandle); !fault.Is(err, fault.InvalidArgument) {
		t.Errorf("main-queue handle on the DLQ: %v", err)
	}
}

func TestRedriveLeavesInFlightDeadLetters(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Options{MaxReceiveCount: 1, Now: clock.Now})
	defer q.Close()
	q.SendBatch(ctx, []queue.SendEntry{{ID: "a", Body: "1"}, {ID: "b", Body: "2"}})
	q.Receive(ctx, 10, time.Second, 0)
	clock.Advance(time.Second)
	q.Receive(ctx, 10, time.Second, 0) // moves both to the DLQ
	inspected, _ := q.DeadLetters().Receive(ctx, 1, time.Hour, 0)
	if len(inspected) != 1 {
		t.Fatal("DLQ receive")
	}
	n, err := q.Redrive(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("Redrive: %d %v, want 1 (the other is in flight in the DLQ)", n, err)
	}
}

func BenchmarkSendReceiveDelete(b *testing.B) {
	ctx := context.Background()
	q, err := Open(filepath.Join(b.TempDir(), "q.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	entries := make([]queue.SendEntry, 10)
	for i := range entries {
		entries[i] = queue.SendEntry{ID: fmt.Sprint("e", i), Body: `{"bucket":"lake","key":"bronze/x.jsonl","etag":"abc"}`}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := q.SendBatch(ctx, entries); err != nil {
			b.Fatal(err)
		}
		msgs, err := q.Receive(ctx, 10, time.Minute, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs {
			if err := q.Delete(ctx, m.ReceiptHandle); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzReceiptHandle: any string given as a receipt handle is either a
// well-formed handle that round-trips or refused as InvalidArgument; never a panic.
func FuzzReceiptHandle(f *testing.F) {
	for _, s := range []string{"bq1.main.1.2", "bq1.dlq.ff.0", "bq1.main..", "bq1.other.1.1", "", "bq1.main.1.2.3", "not-a-handle"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHandle(s)
		if err != nil {
			return
		}
		back, err := parseHandle(h.String())
		if err != nil || back != h {
			t.Fatalf("%q parsed to %+v, which does not round-trip (%v)", s, h, err)
		}
	})
}

func TestMalformedHandlesRefused(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	defer q.Close()
	for _, h := range []string{"", "bq1.main", "bq1.main.x.1", "bq1.nosuch.1.1", "AQEB-sqs-style-handle"} {
		if err := q.Delete(ctx, h); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("Delete(%q): %v", h, err)
		}
		if err := q.ChangeVisibility(ctx, h, 0); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("ChangeVisibility(%q): %v", h, err)
		}
	}
	if err := q.Delete(ctx, "bq1.main.99.1"); err != nil {
		t.Errorf("Delete of a message that is gone: %v (SQS succeeds)", err)
	}
	if err := q.ChangeVisibility(ctx, "bq1.main.99.1", 0); !fault.Is(err, fault.NotFound) {
		t.Errorf("ChangeVisibility of a message that is gone: %v", err)
	}
}
