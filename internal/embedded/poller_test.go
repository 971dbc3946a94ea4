package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
)

// virtualClock is a clock that only moves when told to (Sleep moves it), so
// visibility timeouts expire without waiting.
type virtualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newVirtualClock() *virtualClock {
	return &virtualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(max(d, time.Millisecond))
	c.mu.Unlock()
	return nil
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func sendN(t *testing.T, q queue.Queue, n int) {
	t.Helper()
	for i := 0; i < n; i += 10 {
		var es []queue.SendEntry
		for j := i; j < min(i+10, n); j++ {
			es = append(es, queue.SendEntry{ID: fmt.Sprint(j), Body: fmt.Sprintf("m%d", j)})
		}
		if f, err := q.SendBatch(t.Context(), es); err != nil || len(f) > 0 {
			t.Fatalf("send: %v %v", f, err)
		}
	}
}

// The poller follows Lambda's SQS event source mapping with
// ReportBatchItemFailures: successes are deleted, reported failures come back
// after the visibility timeout, and after maxReceiveCount receives the queue
// moves a message to the DLQ
// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
func TestPollerPartialFailuresRedeliveryAndDLQ(t *testing.T) {
	clock := newVirtualClock()
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "queue.db"), boltqueue.Options{MaxReceiveCount: 3, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	sendN(t, q, 25)

	received := map[string]int{}
	transform := func(_ context.Context, msgs []queue.Message) (BatchResult, error) {
		if len(msgs) > 10 {
			return BatchResult{}, errors.New("batch over 10")
		}
		var res BatchResult
		for _, m := range msgs {
			received[m.Body]++
			switch {
			case m.Body == "m7": // poison: always fails
				res.Failed = append(res.Failed, m.MessageID)
			case m.Body == "m3" && received[m.Body] == 1: // fails once
				res.Failed = append(res.Failed, m.MessageID)
			default:
				res.Records++
			}
		}
		return res, nil
	}
	p := &Poller{q: q, transform: transform, batch: 10, visibility: 30 * time.Second, log: discardLog()}

	total, err := p.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if total.Received != 25 || total.Deleted != 23 || total.Failed != 2 || total.Batches != 3 {
		t.Fatalf("first drain %+v", total)
	}
	// Nothing visible until the visibility timeout passes.
	if r, _ := p.PollOnce(t.Context(), 0); r.Received != 0 {
		t.Fatalf("redelivered early: %+v", r)
	}
	for range 3 {
		clock.Sleep(t.Context(), 31*time.Second)
		if _, err := p.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if received["m3"] != 2 || received["m7"] != 3 {
		t.Fatalf("receives: m3 %d, m7 %d", received["m3"], received["m7"])
	}
	d, _ := q.Depth(t.Context())
	dd, _ := q.DeadLetters().Depth(t.Context())
	if d != (queue.Depth{}) || dd.Visible != 1 {
		t.Fatalf("queue %+v dlq %+v", d, dd)
	}
	// Redrive puts it back; a fixed transform then deletes it.
	if n, err := q.Redrive(t.Context(), 0); err != nil || n != 1 {
		t.Fatalf("redrive %d %v", n, err)
	}
	p.transform = func(_ context.Context, msgs []queue.Message) (BatchResult, error) {
		return BatchResult{Records: len(msgs)}, nil
	}
	if r, err := p.Drain(t.Context()); err != nil || r.Deleted != 1 {
		t.Fatalf("after redrive %+v %v", r, err)
	}
}

func TestPollerFailedBatchAndRetryAfter(t *testing.T) {
	clock := newVirtualClock()
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "queue.db"), boltqueue.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	sendN(t, q, 3)
	calls := 0
	p := &Poller{q: q, batch: 10, visibility: 30 * time.Second, retryAfter: time.Second, log: discardLog(),
		transform: func(_ context.Context, msgs []queue.Message) (BatchResult, error) {
			calls++
			if calls == 1 {
				return BatchResult{}, errors.New("function crashed")
			}
			return BatchResult{Records: len(msgs)}, nil
		}}
	r, err := p.PollOnce(t.Context(), 0)
	if err != nil || r.Failed != 3 || r.Deleted != 0 {
		t.Fatalf("failed batch %+v %v", r, err)
	}
	// retryAfter shortens the wait to one second instead of thirty.
	clock.Sleep(t.Context(), time.Second)
	if r, err := p.Drain(t.Context()); err != nil || r.Deleted != 3 {
		t.Fatalf("retry %+v %v", r, err)
	}
}
