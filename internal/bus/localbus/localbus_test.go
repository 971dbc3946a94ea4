package localbus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/fault"
)

func ready(dt string) bus.Event {
	d, _ := json.Marshal(bus.PartitionReady{Bucket: "lake", RecordType: "shipments", Dt: dt, Prefix: "silver/shipments/dt=" + dt + "/", Files: []string{"a.parquet"}, Rows: 12345678901234})
	return bus.Event{Source: bus.Source, DetailType: bus.DetailTypePartitionReady, Detail: d}
}

func newBus(t *testing.T, path string) *Bus {
	t.Helper()
	n := 0
	b, err := Open(path, Options{
		Now:   func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		NewID: func() string { n++; return fmt.Sprintf("ev-%d", n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestPutValidates(t *testing.T) {
	b := newBus(t, filepath.Join(t.TempDir(), "bus.jsonl"))
	eleven := make([]bus.Event, 11)
	for i := range eleven {
		eleven[i] = ready("2025-01-01")
	}
	cases := []struct {
		name   string
		events []bus.Event
	}{
		{"none", nil},
		{"eleven", eleven},
		{"no source", []bus.Event{{DetailType: "x", Detail: json.RawMessage(`{}`)}}},
		{"no detail-type", []bus.Event{{Source: "x", Detail: json.RawMessage(`{}`)}}},
		{"detail not an object", []bus.Event{{Source: "x", DetailType: "y", Detail: json.RawMessage(`[1]`)}}},
		{"detail not JSON", []bus.Event{{Source: "x", DetailType: "y", Detail: json.RawMessage(`{`)}}},
	}
	for _, tc := range cases {
		if err := b.Put(context.Background(), tc.events); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("%s: %v, want InvalidArgument", tc.name, err)
		}
	}
	if entries, _, _ := b.Read(context.Background(), 0, 0); len(entries) != 0 {
		t.Errorf("refused puts logged %d events", len(entries))
	}
}

func TestDrainInOrderAtLeastOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bus.jsonl")
	b := newBus(t, path)
	if err := b.Put(ctx, []bus.Event{ready("2025-01-01"), ready("2025-01-02")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, []bus.Event{ready("2025-01-03")}); err != nil {
		t.Fatal(err)
	}
	sub, err := b.Subscribe("quality-gate")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	fail := errors.New("handler failed")
	handler := func(failOn string) func(context.Context, Entry) error {
		return func(_ context.Context, e Entry) error {
			var pr bus.PartitionReady
			d := json.NewDecoder(bytes.NewReader(e.Detail))
			d.UseNumber()
			if err := d.Decode(&pr); err != nil {
				return err
			}
			if pr.Dt == failOn {
				return fail
			}
			if pr.Rows != 12345678901234 || !e.Time.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || e.Source != bus.Source {
				t.Errorf("event %+v", e)
			}
			seen = append(seen, pr.Dt)
			return nil
		}
	}
	n, err := sub.Drain(ctx, handler("2025-01-02"))
	if !errors.Is(err, fail) || n != 1 {
		t.Fatalf("Drain with a failing handler: %d %v", n, err)
	}
	// A new process: the bus and subscription are reopened from disk.
	b.Close()
	b2 := newBus(t, path)
	sub2, _ := b2.Subscribe("quality-gate")
	n, err = sub2.Drain(ctx, handler(""))
	if err != nil || n != 2 {
		t.Fatalf("second Drain: %d %v", n, err)
	}
	if want := []string{"2025-01-01", "2025-01-02", "2025-01-03"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("handled %v, want %v (the failed event again, nothing twice after success)", seen, want)
	}
	if n, err := sub2.Drain(ctx, handler("")); n != 0 || err != nil {
		t.Fatalf("drained twice: %d %v", n, err)
	}
	// Another subscription reads from the beginning independently.
	other, _ := b2.Subscribe("audit")
	if n, _ := other.Drain(ctx, func(context.Context, Entry) error { return nil }); n != 3 {
		t.Fatalf("second subscription got %d", n)
	}
}

func TestTornTailCut(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bus.jsonl")
	b := newBus(t, path)
	if err := b.Put(ctx, []bus.Event{ready("2025-01-01")}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"torn","source":"elt.pipe`)
	f.Close()
	b2 := newBus(t, path)
	if err := b2.Put(ctx, []bus.Event{ready("2025-01-02")}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := b2.Read(ctx, 0, 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("after a torn append: %d entries, %v", len(entries), err)
	}
}

func TestWaitWakesOnPut(t *testing.T) {
	ctx := context.Background()
	b := newBus(t, filepath.Join(t.TempDir(), "bus.jsonl"))
	sub, _ := b.Subscribe("rules")
	done := make(chan error, 1)
	go func() { done <- sub.Wait(ctx) }()
	if err := b.Put(ctx, []bus.Event{ready("2025-01-01")}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if p, _ := sub.Pending(); !p {
		t.Fatal("nothing pending after a put")
	}
	cctx, cancel := context.WithCancel(ctx)
	sub.Drain(ctx, func(context.Context, Entry) error { return nil })
	cancel()
	if err := sub.Wait(cctx); !fault.Is(err, fault.Canceled) {
		t.Fatalf("Wait with nothing pending and a cancelled ctx: %v", err)
	}
}

// A second process (another Bus on the same file) reads what the first
// appends and its Wait notices by polling; opening never modifies the log.
func TestReaderInAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bus.jsonl")
	writer := newBus(t, path)
	if err := writer.Put(ctx, []bus.Event{ready("2025-01-01")}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"half-writt`) // a torn tail (or an append in progress)
	f.Close()
	before, _ := os.Stat(path)
	reader, err := Open(path, Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if after, _ := os.Stat(path); after.Size() != before.Size() {
		t.Fatal("opening the log changed it")
	}
	sub, _ := reader.Subscribe("cli")
	if n, err := sub.Drain(ctx, func(context.Context, Entry) error { return nil }); n != 1 || err != nil {
		t.Fatalf("reader drained %d %v", n, err)
	}
	done := make(chan error, 1)
	go func() { done <- sub.Wait(ctx) }()
	if err := writer.Put(ctx, []bus.Event{ready("2025-01-02")}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("reader Wait: %v", err)
	}
	entries, _, err := reader.Read(ctx, 0, 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("reader sees %d entries, %v", len(entries), err)
	}
}
