package faultinject

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/ledger/boltledger"
	"github.com/serverless-elt/elt/internal/ledger/ledgertest"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/objstore/storetest"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
	"github.com/serverless-elt/elt/internal/queue/queuetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newClock() *fakeClock                   { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func newStore(t *testing.T) *fsstore.Store {
	t.Helper()
	s, err := fsstore.New(t.TempDir(), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newQueue(t *testing.T, clock *fakeClock) *boltqueue.Queue {
	t.Helper()
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "q.db"), boltqueue.Options{MaxReceiveCount: 3, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// With no rules the wrappers are transparent: they pass the contract suites.
func TestWrappersPassContractSuites(t *testing.T) {
	t.Run("store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Harness {
			clock := newClock()
			s, err := fsstore.New(t.TempDir(), fsstore.Options{Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			return storetest.Harness{Store: Store(s, New(1)), Bucket: "b", Advance: clock.Advance}
		})
	})
	t.Run("queue", func(t *testing.T) {
		queuetest.Run(t, func(t *testing.T) queuetest.Harness {
			clock := newClock()
			return queuetest.Harness{Queue: Queue(newQueue(t, clock), New(1)), MaxReceiveCount: 3, Advance: clock.Advance}
		})
	})
	t.Run("ledger", func(t *testing.T) {
		ledgertest.Run(t, func(t *testing.T) ledgertest.Harness {
			clock := newClock()
			l, err := boltledger.Open(filepath.Join(t.TempDir(), "l.db"), boltledger.Options{Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return ledgertest.Harness{Ledger: Ledger(l, New(1)), Advance: clock.Advance}
		})
	})
}

func TestNthCallBeforeAndAfter(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		when        When
		wantWritten bool
	}{
		{"before: the put does not happen", Before, false},
		{"after: the put lands, the response is lost", After, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inner := newStore(t)
			in := New(1, Rule{Op: OpPut, Nth: 3, When: tc.when})
			s := Store(inner, in)
			for i := 1; i <= 4; i++ {
				key := fmt.Sprint("k", i)
				_, err := s.Put(ctx, "b", key, strings.NewReader("x"), nil)
				if (i == 3) != (err != nil) {
					t.Fatalf("call %d: %v", i, err)
				}
				if i == 3 && !fault.Is(err, fault.Transient) {
					t.Fatalf("injected error code %s", fault.CodeOf(err))
				}
			}
			_, err := inner.Head(ctx, "b", "k3")
			if written := err == nil; written != tc.wantWritten {
				t.Errorf("k3 written = %v, want %v", written, tc.wantWritten)
			}
			if ev := in.Events(); len(ev) != 1 || ev[0].Call != 3 || ev[0].Op != OpPut {
				t.Errorf("events %v", ev)
			}
		})
	}
}

func TestCrashStopsEverythingUntilRestart(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	in := New(1, Rule{Op: OpDeleteMessage, Nth: 1, Kind: Crash, When: After})
	q := Queue(newQueue(t, clock), in)
	s := Store(newStore(t), in)
	l, err := boltledger.Open(filepath.Join(t.TempDir(), "l.db"), boltledger.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	led := Ledger(l, in)

	if _, err := q.SendBatch(ctx, []queue.SendEntry{{ID: "a", Body: "1"}, {ID: "b", Body: "2"}}); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, 1, time.Minute, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	err = q.Delete(ctx, msgs[0].ReceiptHandle)
	if !IsCrash(err) || !in.Crashed() {
		t.Fatalf("Delete: %v, crashed %v", err, in.Crashed())
	}
	// Dead: nothing reaches any backend.
	if _, err := s.Put(ctx, "b", "k", strings.NewReader("x"), nil); !IsCrash(err) {
		t.Errorf("Put after crash: %v", err)
	}
	if _, err := led.Claim(ctx, "k", "o", time.Minute); !IsCrash(err) {
		t.Errorf("Claim after crash: %v", err)
	}
	if _, err := q.Receive(ctx, 1, time.Minute, 0); !IsCrash(err) {
		t.Errorf("Receive after crash: %v", err)
	}
	in.Restart()
	// The delete happened before the crash (When: After): one message left.
	d, err := q.Depth(ctx)
	if err != nil || d.Visible != 1 || d.InFlight != 0 {
		t.Fatalf("depth after restart %+v %v", d, err)
	}
	if got, err := led.Claim(ctx, "k", "o", time.Minute); err != nil || got != ledger.Claimed {
		t.Fatalf("Claim after restart: %v %v", got, err)
	}
}

func TestPartialBatch(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	in := New(7, Rule{Op: OpSendBatch, Nth: 1, Kind: PartialBatch})
	q := Queue(newQueue(t, clock), in)
	var entries []queue.SendEntry
	for i := 0; i < 10; i++ {
		entries = append(entries, queue.SendEntry{ID: fmt.Sprint("e", i), Body: fmt.Sprint("body-", i)})
	}
	failed, err := q.SendBatch(ctx, entries)
	if err != nil || len(failed) == 0 {
		t.Fatalf("SendBatch: %v, %d failed", err, len(failed))
	}
	failedIDs := map[string]bool{}
	for _, f := range failed {
		if f.SenderFault {
			t.Errorf("injected failure %+v is a sender fault; it must be retryable", f)
		}
		failedIDs[f.ID] = true
	}
	var got []queue.Message
	for {
		m, err := q.Receive(ctx, 10, time.Minute, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			break
		}
		got = append(got, m...)
	}
	if len(got)+len(failed) != 10 {
		t.Fatalf("received %d + failed %d != 10", len(got), len(failed))
	}
	for _, m := range got {
		if failedIDs["e"+strings.TrimPrefix(m.Body, "body-")] {
			t.Errorf("entry reported failed was sent: %s", m.Body)
		}
	}
}

func TestShortRead(t *testing.T) {
	ctx := context.Background()
	inner := newStore(t)
	body := strings.Repeat("0123456789", 100)
	if _, err := inner.Put(ctx, "b", "k", strings.NewReader(body), nil); err != nil {
		t.Fatal(err)
	}
	s := Store(inner, New(1, Rule{Op: OpGet, Nth: 1, Kind: ShortRead}, Rule{Op: OpGet, Nth: 2, Kind: ShortRead}))
	rc, _, err := s.Get(ctx, "b", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if !fault.Is(err, fault.Transient) || len(got) != 500 {
		t.Fatalf("short read: %d bytes, %v", len(got), err)
	}
	rc, _, err = s.Get(ctx, "b", "k", &objstore.GetOptions{Range: &objstore.Range{Offset: 100, Length: 200}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(rc)
	rc.Close()
	if !fault.Is(err, fault.Transient) || string(got) != body[100:200] {
		t.Fatalf("short ranged read: %q, %v", got, err)
	}
	rc, _, err = s.Get(ctx, "b", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = io.ReadAll(rc); err != nil || string(got) != body {
		t.Fatalf("third read: %d bytes %v", len(got), err)
	}
	rc.Close()
}

func TestProbabilityIsSeeded(t *testing.T) {
	ctx := context.Background()
	run := func(seed uint64) []Event {
		in := New(seed, Rule{Op: "ledger.*", Prob: 0.3})
		led := Ledger(nopLedger{}, in)
		for i := 0; i < 1000; i++ {
			led.Claim(ctx, "k", "o", time.Minute)
			led.Release(ctx, "k", "o")
		}
		return in.Events()
	}
	a, b, c := run(42), run(42), run(43)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("same seed, different faults")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("different seeds, same faults")
	}
	// 2000 calls at p=0.3: expect about 600 (deterministic for this seed).
	if len(a) < 500 || len(a) > 700 {
		t.Fatalf("%d faults in 2000 calls at p=0.3", len(a))
	}
}

func TestTimesAndDisable(t *testing.T) {
	ctx := context.Background()
	in := New(1, Rule{Op: "*", Prob: 1, Times: 2})
	led := Ledger(nopLedger{}, in)
	var errs int
	for i := 0; i < 5; i++ {
		if _, err := led.Claim(ctx, "k", "o", time.Minute); err != nil {
			errs++
		}
	}
	if errs != 2 {
		t.Fatalf("Times 2 fired %d times", errs)
	}
	in.Add(Rule{Op: OpClaim, Prob: 1})
	in.SetEnabled(false)
	if _, err := led.Claim(ctx, "k", "o", time.Minute); err != nil {
		t.Fatalf("disabled injector still failed: %v", err)
	}
	in.SetEnabled(true)
	if _, err := led.Claim(ctx, "k", "o", time.Minute); err == nil {
		t.Fatal("re-enabled injector did not fail")
	}
	if in.Calls(OpClaim) != 7 {
		t.Errorf("calls %d", in.Calls(OpClaim))
	}
}

func TestKindsOnlyWhereTheyApply(t *testing.T) {
	r := Rule{Op: "*", Kind: PartialBatch}
	if r.matches(OpPut) || !r.matches(OpSendBatch) {
		t.Error("PartialBatch applies to SendBatch only")
	}
	r = Rule{Op: "objstore.*", Kind: ShortRead}
	if r.matches(OpPut) || !r.matches(OpGet) {
		t.Error("ShortRead applies to Get only")
	}
	if (Rule{Op: "queue.*"}).matches(OpPut) || !(Rule{Op: "queue.*"}).matches(OpReceive) {
		t.Error("prefix match")
	}
}

func TestDeadLetteredPassThrough(t *testing.T) {
	clock := newClock()
	q := Queue(newQueue(t, clock), New(1))
	dl, ok := q.(queue.DeadLettered)
	if !ok {
		t.Fatal("wrapped bolt queue lost its DLQ")
	}
	if n, err := dl.Redrive(context.Background(), 0); err != nil || n != 0 {
		t.Fatalf("Redrive of an empty DLQ: %d %v", n, err)
	}
	if _, ok := Queue(dl.DeadLetters(), New(1)).(queue.DeadLettered); ok {
		t.Error("a DLQ has no DLQ of its own")
	}
}

type nopLedger struct{}

func (nopLedger) Claim(context.Context, string, string, time.Duration) (ledger.Outcome, error) {
	return ledger.Claimed, nil
}
func (nopLedger) Complete(context.Context, string, string, time.Duration) error { return nil }
func (nopLedger) Release(context.Context, string, string) error                 { return nil }

func TestCrashAfterAFailedCallStillCrashes(t *testing.T) {
	in := New(1, Rule{Op: OpHead, Nth: 1, Kind: Crash, When: After}, Rule{Op: OpHead, Nth: 2, When: After})
	s := Store(newStore(t), in)
	if _, err := s.Head(context.Background(), "b", "missing"); !IsCrash(err) || !in.Crashed() {
		t.Fatalf("Head of a missing key with a crash after: %v", err)
	}
	in.Restart()
	if _, err := s.Head(context.Background(), "b", "missing"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("an Error after a failed call must leave the real error: %v", err)
	}
}
