package embedded

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/ledger/boltledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
	"github.com/serverless-elt/elt/internal/work"
)

// lineCounter is a transform that only reads the lines of each work item's
// range (with the real chunk reader), so the stack's plumbing can be tested
// without Parquet: every input line must be seen exactly once.
type lineCounter struct {
	store objstore.Store
	lines map[string]int
	fail  func(work.Item) error
}

func (lc *lineCounter) transform(ctx context.Context, msgs []queue.Message) (BatchResult, error) {
	var res BatchResult
	for _, m := range msgs {
		it, err := work.Decode(m.Body)
		if err != nil {
			return res, err
		}
		if lc.fail != nil {
			if err := lc.fail(it); err != nil {
				res.Failed = append(res.Failed, m.MessageID)
				continue
			}
		}
		rng := it.Range
		get := &objstore.GetOptions{IfMatch: it.ETag}
		if rng.Length >= 0 {
			get.Range = &objstore.Range{Offset: chunk.ReadStart(rng), Length: -1}
		}
		rc, _, err := lc.store.Get(ctx, it.Bucket, it.Key, get)
		if err != nil {
			res.Failed = append(res.Failed, m.MessageID)
			continue
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return res, err
		}
		if rng.Length < 0 {
			rng = objstore.Range{Offset: 0, Length: -1}
		}
		r := chunk.NewReader(bytes.NewReader(data), rng, 0)
		for {
			l, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return res, err
			}
			lc.lines[it.Key+"|"+string(l.Text)]++
			res.Records++
		}
		res.Files++
	}
	return res, nil
}

type testStack struct {
	*Stack
	lc    *lineCounter
	clock *virtualClock
	rules []bus.Event
}

func openTestStack(t *testing.T, dir string, clock *virtualClock, lc *lineCounter, chunkBytes int64) *testStack {
	t.Helper()
	cfg := Config{DataDir: dir, ChunkBytes: chunkBytes, Now: clock.Now, Sleep: clock.Sleep, Log: discardLog()}.WithDefaults()
	st, err := OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	q, err := boltqueue.Open(filepath.Join(dir, "queue.db"), boltqueue.Options{MaxReceiveCount: cfg.MaxReceiveCount, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	l, err := boltledger.Open(filepath.Join(dir, "ledger.db"), boltledger.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := localbus.Open(filepath.Join(dir, "bus", "events.jsonl"), localbus.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	lc.store = st
	ts := &testStack{lc: lc, clock: clock}
	s, err := New(cfg, Backends{Store: st, Queue: q, Ledger: l, Bus: b, Closers: []io.Closer{q, l, b}}, Handlers{
		Plan: chunk.Plan,
		Transform: func(b bus.Bus) (TransformFunc, error) {
			return func(ctx context.Context, msgs []queue.Message) (BatchResult, error) {
				res, err := lc.transform(ctx, msgs)
				if err == nil && res.Files > 0 {
					err = b.Put(ctx, []bus.Event{{Source: bus.Source, DetailType: bus.DetailTypePartitionReady, Detail: []byte(`{"rows":1}`), Time: clock.Now()}})
				}
				return res, err
			}, nil
		},
	}, Rule{Name: "record", DetailType: bus.DetailTypePartitionReady, Target: func(_ context.Context, ev bus.Event) error {
		ts.rules = append(ts.rules, ev)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Stack = s
	t.Cleanup(func() { s.Close() })
	return ts
}

func jsonl(n int, tag string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"n":%d,"tag":%q}`+"\n", i, tag)
	}
	return b.String()
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRunUntilIdleReadsEveryLineOnce(t *testing.T) {
	dir := t.TempDir()
	clock := newVirtualClock()
	lc := &lineCounter{lines: map[string]int{}}
	s := openTestStack(t, dir, clock, lc, 1000)
	ctx := t.Context()
	store := s.Store()
	big := jsonl(500, "big") // ~11 KB: 12 chunks of 1000 bytes
	put(t, store, "bronze", "bronze/a/big.jsonl", big)
	put(t, store, "bronze", "bronze/a/small.json", jsonl(3, "small"))
	put(t, store, "bronze", "bronze/b/z.jsonl.gz", gzipped(t, jsonl(7, "gz")))
	put(t, store, "bronze", "other/ignored.jsonl", jsonl(5, "x"))

	p, err := s.RunUntilIdle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantMsgs := (len(big)+999)/1000 + 2
	if p.Ingest.Claimed != 3 || p.Ingest.Messages != wantMsgs || p.Messages != wantMsgs || p.Events != 3 {
		t.Fatalf("progress %+v (want %d messages)", p, wantMsgs)
	}
	for k, n := range lc.lines {
		if n != 1 {
			t.Errorf("line %s read %d times", k, n)
		}
	}
	for i := range 500 {
		if lc.lines[fmt.Sprintf(`bronze/a/big.jsonl|{"n":%d,"tag":"big"}`, i)] != 1 {
			t.Fatalf("line %d of big.jsonl not read once", i)
		}
	}
	if p.Rules == 0 || len(s.rules) != p.Rules {
		t.Errorf("rule hook saw %d events, progress says %d", len(s.rules), p.Rules)
	}

	// Idle: a second run does nothing.
	if p, err := s.RunUntilIdle(ctx); err != nil || p.Events != 0 || p.Messages != 0 {
		t.Fatalf("second run %+v %v", p, err)
	}
	// A restart from the same data dir has nothing to do either, and a new
	// object (here written by hand) is picked up.
	s.Close()
	lc.lines = map[string]int{}
	s = openTestStack(t, dir, clock, lc, 1000)
	fp, err := s.Store().(interface {
		Path(string, string) (string, error)
	}).Path("bronze", "bronze/c/hand.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fp, []byte(jsonl(2, "hand")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(fp, clock.Now(), clock.Now()); err != nil { // written "now" on the virtual clock
		t.Fatal(err)
	}
	p, err = s.RunUntilIdle(ctx)
	if err != nil || p.Ingest.Claimed != 1 || p.Messages != 1 || len(lc.lines) != 2 {
		t.Fatalf("after restart %+v %v %v", p, err, lc.lines)
	}
	// The rule's durable cursor survived the restart: only the new event.
	if p.Rules != 1 || len(s.rules) != 1 {
		t.Fatalf("rules after restart: %d (%d events)", p.Rules, len(s.rules))
	}
}

func TestRunUntilIdleSendsPoisonToDLQ(t *testing.T) {
	dir := t.TempDir()
	clock := newVirtualClock()
	lc := &lineCounter{lines: map[string]int{}, fail: func(it work.Item) error {
		if strings.Contains(it.Key, "poison") {
			return errors.New("infrastructure error")
		}
		return nil
	}}
	s := openTestStack(t, dir, clock, lc, 0)
	put(t, s.Store(), "bronze", "bronze/ok.jsonl", jsonl(4, "ok"))
	put(t, s.Store(), "bronze", "bronze/poison.jsonl", jsonl(4, "p"))
	p, err := s.RunUntilIdle(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.Messages != 1 || len(lc.lines) != 4 {
		t.Fatalf("progress %+v lines %d", p, len(lc.lines))
	}
	inv, err := s.Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inv.DLQ.Visible != 1 || inv.Queue != (queue.Depth{}) || inv.BronzeObjects != 2 {
		t.Fatalf("inventory %+v", inv)
	}
	// The poison message waited out its retries on the virtual clock only.
	if d := clock.Now().Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); d > time.Minute {
		t.Errorf("virtual time %v", d)
	}
}

// Run (elt up) keeps scanning and polling until its context ends: an object
// uploaded while it runs is processed, and cancelling returns nil.
func TestRunProcessesUploadsUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	lc := &lineCounter{lines: map[string]int{}}
	cfg := Config{DataDir: dir, ScanInterval: 5 * time.Millisecond, PollWait: 5 * time.Millisecond, Log: discardLog()}
	st, err := OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	q, err := boltqueue.Open(filepath.Join(dir, "queue.db"), boltqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := boltledger.Open(filepath.Join(dir, "ledger.db"), boltledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lc.store = st
	s, err := New(cfg, Backends{Store: st, Queue: q, Ledger: l, Closers: []io.Closer{q, l}}, Handlers{
		Plan:      chunk.Plan,
		Transform: func(bus.Bus) (TransformFunc, error) { return lc.transform, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	progress := make(chan Progress, 100)
	go func() {
		done <- s.Run(ctx, func(p Progress) {
			select {
			case progress <- p:
			default:
			}
		})
	}()
	put(t, st, "bronze", "bronze/live.jsonl", jsonl(3, "live"))
	for p := range progress {
		if p.Messages == 1 {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if len(lc.lines) != 3 {
		t.Fatalf("lines %v", lc.lines)
	}
}
