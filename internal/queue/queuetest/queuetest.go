// Package queuetest is the contract suite every queue.Queue driver must pass:
// the embedded bbolt queue and the SQS adapter run the same subtests.
//
// Semantics pinned here follow SQS standard queues
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html,
// .../sqs-dead-letter-queues.html, .../API_SendMessageBatch.html):
//   - SendBatch takes 1..10 entries with distinct ids, else the whole call is
//     fault.InvalidArgument; an entry the queue refuses (a body with characters
//     outside SQS's allowed set, such as NUL) is reported by its id with
//     SenderFault set and the other entries are sent.
//   - Receive takes 1..10; a received message stays invisible for the
//     visibility timeout, then is delivered again with ReceiveCount+1 and a
//     new receipt handle. visibility <= 0 means the queue's default.
//   - Once a message has been received MaxReceiveCount times, the next
//     receive moves it to the dead-letter queue instead of delivering it.
//   - A receipt handle from an earlier receive is stale after redelivery:
//     Delete or ChangeVisibility with it fails with fault.NotFound or
//     fault.PreconditionFailed and leaves the message alone (real SQS may
//     accept it silently; such a harness sets LenientStaleReceipts).
//   - Receive honours ctx: cancelling it ends a long poll with fault.Canceled.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/queue"
)

// Harness is one fresh, empty queue for one subtest.
type Harness struct {
	// Queue is the queue under test. If it implements queue.DeadLettered and
	// MaxReceiveCount > 0 the dead-letter tests run.
	Queue queue.Queue
	// MaxReceiveCount is the queue's redrive policy (0: no DLQ). The suite
	// receives some messages three times, so it must be 0 or at least 3.
	MaxReceiveCount int
	// Advance moves the queue's clock forward. Nil means a real clock: the
	// suite then uses Step as the visibility timeout and sleeps.
	Advance func(time.Duration)
	// Step is the shortest visibility timeout the backend honours on a real
	// clock (1s for SQS, whose timeouts are whole seconds). Default 1s.
	Step time.Duration
	// LenientStaleReceipts: the backend may accept a stale receipt handle
	// without an error (real SQS); the stale-handle checks are skipped.
	LenientStaleReceipts bool
	// Reopen, when set, closes the queue and opens it again on the same
	// storage; the durability test runs with it.
	Reopen func(t *testing.T) queue.Queue
}

// MakeHarness returns a fresh harness; it registers its own cleanup on t.
type MakeHarness func(t *testing.T) Harness

// Run runs the whole contract suite.
func Run(t *testing.T, newHarness MakeHarness) {
	tests := []struct {
		name string
		fn   func(*testing.T, *Harness)
	}{
		{"SendReceiveDelete", testSendReceiveDelete},
		{"BatchLimits", testBatchLimits},
		{"BatchEntryFailure", testBatchEntryFailure},
		{"VisibilityTimeout", testVisibility},
		{"StaleReceiptHandle", testStaleReceipt},
		{"ChangeVisibility", testChangeVisibility},
		{"LongPoll", testLongPoll},
		{"ReceiveHonoursContext", testReceiveContext},
		{"Depth", testDepth},
		{"DeadLetterAfterMaxReceives", testDeadLetter},
		{"RedrivePartial", testRedrivePartial},
		{"AtLeastOnceConcurrentConsumers", testConcurrentConsumers},
		{"SurvivesReopen", testReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if h.MaxReceiveCount > 0 && h.MaxReceiveCount < 3 {
				t.Fatalf("harness MaxReceiveCount %d: the suite needs 0 (no DLQ) or >= 3", h.MaxReceiveCount)
			}
			if h.Step <= 0 {
				h.Step = time.Second
			}
			tc.fn(t, &h)
		})
	}
}

// vis is the visibility timeout the suite hides messages for.
func (h *Harness) vis() time.Duration {
	if h.Advance != nil {
		return 30 * time.Second
	}
	return h.Step
}

// pass lets d elapse on the queue's clock (plus a margin on a real clock,
// where the server notices expiry on its own schedule).
func (h *Harness) pass(d time.Duration) {
	if h.Advance != nil {
		h.Advance(d)
		return
	}
	time.Sleep(d + h.Step/2)
}

// poll is the long-poll wait for receives that expect a message: none
// needed on a controllable clock, a bounded short one on a real clock.
func (h *Harness) poll() time.Duration {
	if h.Advance != nil {
		return 0
	}
	return 2 * h.Step
}

func send(t *testing.T, q queue.Queue, bodies ...string) {
	t.Helper()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []queue.SendEntry
		for i, b := range bodies[:n] {
			entries = append(entries, queue.SendEntry{ID: fmt.Sprintf("e%d", i), Body: b})
		}
		failed, err := q.SendBatch(context.Background(), entries)
		if err != nil || len(failed) > 0 {
			t.Fatalf("SendBatch: %v, failed %+v", err, failed)
		}
		bodies = bodies[n:]
	}
}

// receiveN receives until it has n messages or a receive comes back empty.
func receiveN(t *testing.T, h *Harness, q queue.Queue, n int, vis time.Duration) []queue.Message {
	t.Helper()
	var out []queue.Message
	for len(out) < n {
		msgs, err := q.Receive(context.Background(), min(10, n-len(out)), vis, h.poll())
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if len(msgs) == 0 {
			break
		}
		out = append(out, msgs...)
	}
	return out
}

// receiveNone checks that nothing is visible right now.
func receiveNone(t *testing.T, h *Harness, q queue.Queue, why string) {
	t.Helper()
	msgs, err := q.Receive(context.Background(), 10, h.vis(), 0)
	if err != nil {
		t.Fatalf("Receive (%s): %v", why, err)
	}
	if len(msgs) != 0 {
		t.Fatalf("%s: received %d messages (first %q, count %d), want none", why, len(msgs), msgs[0].Body, msgs[0].ReceiveCount)
	}
}

func wantCode(t *testing.T, what string, err error, codes ...fault.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, codes)
	}
	got := fault.CodeOf(err)
	for _, c := range codes {
		if got == c {
			return
		}
	}
	t.Fatalf("%s: code %s (%v), want one of %v", what, got, err, codes)
}

func testSendReceiveDelete(t *testing.T, h *Harness) {
	ctx := context.Background()
	entries := []queue.SendEntry{
		{ID: "a", Body: `{"bucket":"b","key":"k1"}`, Attributes: map[string]string{"type": "item"}},
		{ID: "b", Body: `{"bucket":"b","key":"k2 with space"}`},
		{ID: "c", Body: "unicode ✓ 日本"},
	}
	failed, err := h.Queue.SendBatch(ctx, entries)
	if err != nil || len(failed) != 0 {
		t.Fatalf("SendBatch: %v %+v", err, failed)
	}
	msgs := receiveN(t, h, h.Queue, 3, h.vis())
	if len(msgs) != 3 {
		t.Fatalf("received %d of 3", len(msgs))
	}
	byBody := map[string]queue.Message{}
	ids := map[string]bool{}
	for _, m := range msgs {
		byBody[m.Body] = m
		if m.MessageID == "" || m.ReceiptHandle == "" || ids[m.MessageID] {
			t.Errorf("message id %q handle %q (ids must be set and distinct)", m.MessageID, m.ReceiptHandle)
		}
		ids[m.MessageID] = true
		if m.ReceiveCount != 1 {
			t.Errorf("first receive has ReceiveCount %d", m.ReceiveCount)
		}
		if m.SentAt.IsZero() {
			t.Errorf("SentAt is zero")
		}
	}
	for _, e := range entries {
		m, ok := byBody[e.Body]
		if !ok {
			t.Fatalf("body %q not received", e.Body)
		}
		for k, v := range e.Attributes {
			if m.Attributes[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, m.Attributes[k], v)
			}
		}
	}
	for _, m := range msgs {
		if err := h.Queue.Delete(ctx, m.ReceiptHandle); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	h.pass(h.vis())
	receiveNone(t, h, h.Queue, "after deleting everything")
	d, err := h.Queue.Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Visible != 0 || d.InFlight != 0 {
		t.Errorf("depth after delete %+v", d)
	}
}

func testBatchLimits(t *testing.T, h *Harness) {
	ctx := context.Background()
	eleven := make([]queue.SendEntry, 11)
	for i := range eleven {
		eleven[i] = queue.SendEntry{ID: fmt.Sprint("e", i), Body: "x"}
	}
	cases := []struct {
		name    string
		entries []queue.SendEntry
	}{
		{"empty batch", nil},
		{"eleven entries", eleven},
		{"duplicate ids", []queue.SendEntry{{ID: "same", Body: "1"}, {ID: "same", Body: "2"}}},
	}
	for _, tc := range cases {
		_, err := h.Queue.SendBatch(ctx, tc.entries)
		wantCode(t, tc.name, err, fault.InvalidArgument)
	}
	for _, max := range []int{0, 11} {
		_, err := h.Queue.Receive(ctx, max, h.vis(), 0)
		wantCode(t, fmt.Sprintf("Receive max=%d", max), err, fault.InvalidArgument)
	}
	receiveNone(t, h, h.Queue, "after refused batches")
}

func testBatchEntryFailure(t *testing.T, h *Harness) {
	ctx := context.Background()
	failed, err := h.Queue.SendBatch(ctx, []queue.SendEntry{
		{ID: "good-1", Body: "one"},
		{ID: "bad", Body: "nul \x00 is not allowed"},
		{ID: "good-2", Body: "two"},
	})
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if len(failed) != 1 || failed[0].ID != "bad" || !failed[0].SenderFault {
		t.Fatalf("failures %+v, want exactly entry \"bad\" as a sender fault", failed)
	}
	msgs := receiveN(t, h, h.Queue, 2, h.vis())
	got := []string{}
	for _, m := range msgs {
		got = append(got, m.Body)
	}
	sort.Strings(got)
	if len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("received %q, want the two good entries", got)
	}
}

func testVisibility(t *testing.T, h *Harness) {
	send(t, h.Queue, "hidden for a while")
	first := receiveN(t, h, h.Queue, 1, h.vis())
	if len(first) != 1 {
		t.Fatal("message not received")
	}
	receiveNone(t, h, h.Queue, "while in flight")
	h.pass(h.vis())
	again := receiveN(t, h, h.Queue, 1, h.vis())
	if len(again) != 1 {
		t.Fatal("message not redelivered after its visibility timeout")
	}
	m := again[0]
	if m.MessageID != first[0].MessageID || m.Body != first[0].Body {
		t.Errorf("redelivered %+v, want message %s", m, first[0].MessageID)
	}
	if m.ReceiveCount != 2 {
		t.Errorf("redelivered ReceiveCount %d, want 2", m.ReceiveCount)
	}
	if m.ReceiptHandle == first[0].ReceiptHandle {
		t.Errorf("receipt handle did not change on redelivery")
	}
	if err := h.Queue.Delete(context.Background(), m.ReceiptHandle); err != nil {
		t.Fatal(err)
	}
}

func testStaleReceipt(t *testing.T, h *Harness) {
	if h.LenientStaleReceipts {
		t.Skip("backend accepts stale receipt handles silently (like SQS)")
	}
	ctx := context.Background()
	send(t, h.Queue, "stale")
	first := receiveN(t, h, h.Queue, 1, h.vis())
	h.pass(h.vis())
	second := receiveN(t, h, h.Queue, 1, h.vis())
	if len(first) != 1 || len(second) != 1 {
		t.Fatal("message not received twice")
	}
	stale := first[0].ReceiptHandle
	wantCode(t, "Delete with a stale handle", h.Queue.Delete(ctx, stale), fault.NotFound, fault.PreconditionFailed)
	wantCode(t, "ChangeVisibility with a stale handle", h.Queue.ChangeVisibility(ctx, stale, 0), fault.NotFound, fault.PreconditionFailed)
	receiveNone(t, h, h.Queue, "stale ChangeVisibility must not expose the message")
	// The message survived the stale delete: the current handle still works.
	if err := h.Queue.ChangeVisibility(ctx, second[0].ReceiptHandle, 0); err != nil {
		t.Fatalf("ChangeVisibility with the current handle: %v", err)
	}
	third := receiveN(t, h, h.Queue, 1, h.vis())
	if len(third) != 1 || third[0].ReceiveCount != 3 {
		t.Fatalf("after stale delete: %+v", third)
	}
	if err := h.Queue.Delete(ctx, third[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "Delete with a malformed handle", h.Queue.Delete(ctx, "not-a-handle"), fault.NotFound, fault.PreconditionFailed, fault.InvalidArgument)
}

func testChangeVisibility(t *testing.T, h *Harness) {
	ctx := context.Background()
	send(t, h.Queue, "change me")
	m := receiveN(t, h, h.Queue, 1, h.vis())
	if len(m) != 1 {
		t.Fatal("not received")
	}
	// Zero: visible again at once.
	if err := h.Queue.ChangeVisibility(ctx, m[0].ReceiptHandle, 0); err != nil {
		t.Fatalf("ChangeVisibility 0: %v", err)
	}
	m = receiveN(t, h, h.Queue, 1, h.vis())
	if len(m) != 1 || m[0].ReceiveCount != 2 {
		t.Fatalf("after ChangeVisibility 0: %+v", m)
	}
	// Extend: still hidden after the original timeout, visible after the new one.
	if err := h.Queue.ChangeVisibility(ctx, m[0].ReceiptHandle, 3*h.vis()); err != nil {
		t.Fatalf("ChangeVisibility extend: %v", err)
	}
	h.pass(h.vis())
	receiveNone(t, h, h.Queue, "after extending the visibility timeout")
	h.pass(2 * h.vis())
	m = receiveN(t, h, h.Queue, 1, h.vis())
	if len(m) != 1 || m[0].ReceiveCount != 3 {
		t.Fatalf("after the extended timeout: %+v", m)
	}
}

func testLongPoll(t *testing.T, h *Harness) {
	// The receive may wait 10s but its context ends after 5s: a long poll
	// that wakes when the message lands returns it at once; one that only
	// looks again when its wait is over fails with Canceled. (The bound is
	// generous on purpose; this is not a speed test.)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type result struct {
		msgs []queue.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		msgs, err := h.Queue.Receive(ctx, 1, h.vis(), 10*time.Second)
		done <- result{msgs, err}
	}()
	send(t, h.Queue, "wake up")
	r := <-done
	if r.err != nil {
		t.Fatalf("Receive: %v (a long poll must return as soon as a message arrives)", r.err)
	}
	if len(r.msgs) != 1 || r.msgs[0].Body != "wake up" {
		t.Fatalf("long poll returned %+v, want the message sent while it waited", r.msgs)
	}
}

func testReceiveContext(t *testing.T, h *Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Queue.Receive(ctx, 1, h.vis(), 20*time.Second)
		done <- err
	}()
	cancel()
	wantCode(t, "Receive with a cancelled context", <-done, fault.Canceled)
}

func testDepth(t *testing.T, h *Harness) {
	ctx := context.Background()
	send(t, h.Queue, "1", "2", "3", "4", "5")
	got := receiveN(t, h, h.Queue, 2, h.vis())
	if len(got) != 2 {
		t.Fatalf("received %d", len(got))
	}
	d, err := h.Queue.Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Visible != 3 || d.InFlight != 2 {
		t.Errorf("depth %+v, want 3 visible, 2 in flight", d)
	}
	if err := h.Queue.Delete(ctx, got[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if d, _ = h.Queue.Depth(ctx); d.Visible != 3 || d.InFlight != 1 {
		t.Errorf("after one delete depth %+v, want 3 visible, 1 in flight", d)
	}
}

func dlq(t *testing.T, h *Harness) queue.DeadLettered {
	t.Helper()
	dl, ok := h.Queue.(queue.DeadLettered)
	if !ok || h.MaxReceiveCount <= 0 {
		t.Skip("queue has no dead-letter queue")
	}
	return dl
}

// exhaust receives a message MaxReceiveCount times without deleting it.
func exhaust(t *testing.T, h *Harness, n int) {
	t.Helper()
	for i := 1; i <= h.MaxReceiveCount; i++ {
		got := receiveN(t, h, h.Queue, n, h.vis())
		if len(got) != n {
			t.Fatalf("receive round %d got %d of %d", i, len(got), n)
		}
		for _, m := range got {
			if m.ReceiveCount != i {
				t.Fatalf("round %d: ReceiveCount %d", i, m.ReceiveCount)
			}
		}
		h.pass(h.vis())
	}
}

func testDeadLetter(t *testing.T, h *Harness) {
	ctx := context.Background()
	dl := dlq(t, h)
	send(t, h.Queue, "poison")
	exhaust(t, h, 1)
	// The next receive moves it to the DLQ instead of delivering it.
	if msgs, err := h.Queue.Receive(ctx, 10, h.vis(), h.poll()); err != nil || len(msgs) != 0 {
		t.Fatalf("receive after %d receives: %+v %v, want nothing (moved to DLQ)", h.MaxReceiveCount, msgs, err)
	}
	dead := receiveN(t, h, dl.DeadLetters(), 1, h.vis())
	if len(dead) != 1 || dead[0].Body != "poison" {
		t.Fatalf("DLQ holds %+v", dead)
	}
	// Make it visible in the DLQ again so it can be redriven.
	if err := dl.DeadLetters().ChangeVisibility(ctx, dead[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	n, err := dl.Redrive(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("Redrive: %d %v", n, err)
	}
	back := receiveN(t, h, h.Queue, 1, h.vis())
	if len(back) != 1 || back[0].Body != "poison" || back[0].ReceiveCount != 1 {
		t.Fatalf("after redrive: %+v (want ReceiveCount reset to 1)", back)
	}
	if d, err := dl.DeadLetters().Depth(ctx); err != nil || d.Visible+d.InFlight != 0 {
		t.Errorf("DLQ depth after redrive %+v %v", d, err)
	}
	if err := h.Queue.Delete(ctx, back[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
}

func testRedrivePartial(t *testing.T, h *Harness) {
	ctx := context.Background()
	dl := dlq(t, h)
	send(t, h.Queue, "p1", "p2", "p3")
	exhaust(t, h, 3)
	receiveNone(t, h, h.Queue, "all three dead-lettered")
	if d, err := dl.DeadLetters().Depth(ctx); err != nil || d.Visible != 3 {
		t.Fatalf("DLQ depth %+v %v, want 3 visible", d, err)
	}
	n, err := dl.Redrive(ctx, 2)
	if err != nil || n != 2 {
		t.Fatalf("Redrive(2): %d %v", n, err)
	}
	n, err = dl.Redrive(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("Redrive(all): %d %v", n, err)
	}
	back := receiveN(t, h, h.Queue, 3, h.vis())
	bodies := map[string]int{}
	for _, m := range back {
		bodies[m.Body] = m.ReceiveCount
	}
	if len(bodies) != 3 || bodies["p1"] != 1 || bodies["p2"] != 1 || bodies["p3"] != 1 {
		t.Fatalf("after redrive received %v", bodies)
	}
}

func testConcurrentConsumers(t *testing.T, h *Harness) {
	const total, consumers = 120, 4
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var bodies []string
	for i := 0; i < total; i++ {
		bodies = append(bodies, fmt.Sprintf("msg-%03d", i))
	}
	send(t, h.Queue, bodies...)

	var mu sync.Mutex
	delivered := map[string]int{}
	deleted := map[string]bool{}
	allDone := func() bool { mu.Lock(); defer mu.Unlock(); return len(deleted) == total }
	// Consumers hold busy (shared) while they receive and handle a batch;
	// the clock only moves when none is busy, so only abandoned messages
	// time out and no message is redelivered under a live consumer's feet.
	var busy sync.RWMutex
	var wg sync.WaitGroup
	errs := make(chan error, consumers)
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			for !allDone() {
				if ctx.Err() != nil {
					errs <- fmt.Errorf("consumer %d gave up", c)
					return
				}
				busy.RLock()
				err := consume(ctx, h, rng, func(m queue.Message, deletedOK bool) {
					mu.Lock()
					defer mu.Unlock()
					delivered[m.Body]++
					if deletedOK {
						deleted[m.Body] = true
					}
				})
				busy.RUnlock()
				if errors.Is(err, errEmpty) {
					// Only abandoned messages are left; let their timeouts lapse.
					if h.Advance != nil {
						busy.Lock()
						h.Advance(h.vis())
						busy.Unlock()
					}
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("consumer %d: %w", c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if delivered[b] == 0 || !deleted[b] {
			t.Errorf("message %s delivered %d times, deleted %v", b, delivered[b], deleted[b])
		}
	}
	if len(delivered) != total {
		t.Errorf("delivered %d distinct bodies, want %d", len(delivered), total)
	}
	d, err := h.Queue.Depth(context.Background())
	if err != nil || d.Visible != 0 || d.InFlight != 0 {
		t.Errorf("depth at the end %+v %v", d, err)
	}
}

var errEmpty = errors.New("empty receive")

// consume receives one batch and deletes what it got, except that it
// "crashes" on a fifth of first deliveries (abandons them undeleted).
func consume(ctx context.Context, h *Harness, rng *rand.Rand, record func(queue.Message, bool)) error {
	msgs, err := h.Queue.Receive(ctx, 1+rng.IntN(10), h.vis(), h.poll())
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return errEmpty
	}
	for _, m := range msgs {
		if m.ReceiveCount == 1 && rng.IntN(5) == 0 {
			record(m, false)
			continue
		}
		err := h.Queue.Delete(ctx, m.ReceiptHandle)
		if err != nil && !fault.Is(err, fault.NotFound) && !fault.Is(err, fault.PreconditionFailed) {
			return fmt.Errorf("delete: %w", err)
		}
		// A stale handle (the message was redelivered to someone else) is
		// not a loss: the other receiver deletes it.
		record(m, err == nil)
	}
	return nil
}

func testReopen(t *testing.T, h *Harness) {
	if h.Reopen == nil {
		t.Skip("harness cannot reopen its queue")
	}
	ctx := context.Background()
	send(t, h.Queue, "r1", "r2", "r3")
	inflight := receiveN(t, h, h.Queue, 1, h.vis())
	if len(inflight) != 1 {
		t.Fatal("not received")
	}
	q := h.Reopen(t)
	h.Queue = q
	d, err := q.Depth(ctx)
	if err != nil || d.Visible != 2 || d.InFlight != 1 {
		t.Fatalf("depth after reopen %+v %v, want 2 visible 1 in flight", d, err)
	}
	if err := q.Delete(ctx, inflight[0].ReceiptHandle); err != nil {
		t.Fatalf("delete with a handle from before the restart: %v", err)
	}
	rest := receiveN(t, h, q, 2, h.vis())
	if len(rest) != 2 {
		t.Fatalf("after reopen received %d of 2", len(rest))
	}
	for _, m := range rest {
		if m.Body == inflight[0].Body {
			t.Errorf("deleted message %q came back", m.Body)
		}
	}
}
