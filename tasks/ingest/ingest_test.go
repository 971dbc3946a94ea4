package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/work"
)

// The handler's own logic is tested against small in-memory fakes that can
// script failures the real backends cannot produce on demand (partial batch
// failures, a held claim). The embedded stack's tests run it on the real
// embedded backends.

type headStore struct {
	objstore.Store // only Head is used; other methods panic if called
	objs           map[string]objstore.ObjectInfo
	err            error
}

func (s *headStore) Head(_ context.Context, bucket, key string) (objstore.ObjectInfo, error) {
	if s.err != nil {
		return objstore.ObjectInfo{}, s.err
	}
	o, ok := s.objs[bucket+"/"+key]
	if !ok {
		return objstore.ObjectInfo{}, fault.New(fault.NotFound, "head "+key, nil)
	}
	return o, nil
}

type claimState struct {
	owner string
	done  bool
	until time.Time
}

type memLedger struct {
	mu     sync.Mutex
	now    func() time.Time
	claims map[string]*claimState
	log    []string
}

func newMemLedger(now func() time.Time) *memLedger {
	return &memLedger{now: now, claims: map[string]*claimState{}}
}

func (l *memLedger) Claim(_ context.Context, key, owner string, lease time.Duration) (ledger.Outcome, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, "claim "+key)
	c, ok := l.claims[key]
	if ok && l.now().Before(c.until) {
		if c.done {
			return ledger.Done, nil
		}
		if c.owner != owner { // the owner itself renews (as boltledger does)
			return ledger.Held, nil
		}
	}
	l.claims[key] = &claimState{owner: owner, until: l.now().Add(lease)}
	return ledger.Claimed, nil
}

func (l *memLedger) Complete(_ context.Context, key, owner string, ttl time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, "complete "+key)
	c, ok := l.claims[key]
	if !ok || c.owner != owner {
		return fault.New(fault.PreconditionFailed, "complete "+key, nil)
	}
	c.done, c.until = true, l.now().Add(ttl)
	return nil
}

func (l *memLedger) Release(_ context.Context, key, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, "release "+key)
	if c, ok := l.claims[key]; ok && c.owner == owner && !c.done {
		delete(l.claims, key)
	}
	return nil
}

// scriptQueue records sent entries; fail decides per call and entry whether
// an entry fails (nil: all succeed).
type scriptQueue struct {
	queue.Queue
	calls   int
	sent    []queue.SendEntry
	sizes   []int
	fail    func(call int, e queue.SendEntry) *queue.SendFailure
	callErr func(call int) error
}

func (q *scriptQueue) SendBatch(_ context.Context, entries []queue.SendEntry) ([]queue.SendFailure, error) {
	q.calls++
	if len(entries) > MaxBatch {
		return nil, fmt.Errorf("batch of %d", len(entries))
	}
	q.sizes = append(q.sizes, len(entries))
	if q.callErr != nil {
		if err := q.callErr(q.calls); err != nil {
			return nil, err
		}
	}
	var out []queue.SendFailure
	for _, e := range entries {
		if q.fail != nil {
			if f := q.fail(q.calls, e); f != nil {
				f.ID = e.ID
				out = append(out, *f)
				continue
			}
		}
		q.sent = append(q.sent, e)
	}
	return out, nil
}

// fixedPlan splits into chunkBytes pieces (the handler does not care how
// chunk.Plan places boundaries, only that it is called for plain JSONL).
func fixedPlan(size, chunkBytes int64) []objstore.Range {
	var rs []objstore.Range
	for off := int64(0); off < size; off += chunkBytes {
		rs = append(rs, objstore.Range{Offset: off, Length: min(chunkBytes, size-off)})
	}
	return rs
}

type fixture struct {
	store  *headStore
	queue  *scriptQueue
	ledger *memLedger
	now    time.Time
	sleeps []time.Duration
	logs   bytes.Buffer // the handler's log, as JSON lines
	h      *Handler
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{
		store: &headStore{objs: map[string]objstore.ObjectInfo{}},
		queue: &scriptQueue{},
		now:   time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC),
	}
	clock := func() time.Time { return f.now }
	f.ledger = newMemLedger(clock)
	h, err := New(cfg, Deps{
		Store: f.store, Queue: f.queue, Ledger: f.ledger, Plan: fixedPlan, Now: clock,
		Sleep: func(_ context.Context, d time.Duration) error { f.sleeps = append(f.sleeps, d); return nil },
		Log:   slog.New(slog.NewJSONHandler(&f.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

func (f *fixture) put(bucket, key, etag string, size int64) {
	f.store.objs[bucket+"/"+key] = objstore.ObjectInfo{Bucket: bucket, Key: key, ETag: etag, Size: size}
}

func event(recs ...events.S3EventRecord) events.S3Event { return events.S3Event{Records: recs} }

func decodeSent(t *testing.T, q *scriptQueue) []work.Item {
	t.Helper()
	var items []work.Item
	for _, e := range q.sent {
		it, err := work.Decode(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	return items
}

func TestHandlePlansAndQueues(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		size      int64
		chunk     int64
		wantItems int
		format    work.Format
		gzip      bool
	}{
		{"jsonl split", "bronze/a.jsonl", 250, 100, 3, work.JSONL, false},
		{"jsonl one chunk", "bronze/a.jsonl", 99, 100, 1, work.JSONL, false},
		{"empty jsonl", "bronze/empty.jsonl", 0, 100, 1, work.JSONL, false},
		{"json whole", "bronze/a.json", 1000, 100, 1, work.JSON, false},
		{"gzip whole", "bronze/a.jsonl.gz", 1000, 100, 1, work.JSONL, true},
		{"json gzip whole", "bronze/a.JSON.GZ", 1000, 100, 1, work.JSON, true},
		{"25 chunks span 3 batches", "bronze/big.ndjson", 2500, 100, 25, work.JSONL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{ChunkBytes: tt.chunk})
			f.put("bronze", tt.key, "etag1", tt.size)
			out, err := f.h.Handle(t.Context(), event(created("bronze", EncodeKey(tt.key), `"etag1"`)))
			if err != nil {
				t.Fatal(err)
			}
			want := Output{Objects: 1, Claimed: 1, Messages: tt.wantItems}
			if out != want {
				t.Fatalf("out = %+v, want %+v", out, want)
			}
			items := decodeSent(t, f.queue)
			if len(items) != tt.wantItems {
				t.Fatalf("%d items, want %d", len(items), tt.wantItems)
			}
			var covered int64
			for i, it := range items {
				if it.Bucket != "bronze" || it.Key != tt.key || it.ETag != "etag1" || it.Size != tt.size {
					t.Errorf("item %d names the wrong object: %+v", i, it)
				}
				if it.Chunk != i || it.Chunks != tt.wantItems || it.Format != tt.format || it.Gzip != tt.gzip {
					t.Errorf("item %d: %+v", i, it)
				}
				if !it.IngestedAt.Equal(f.now) {
					t.Errorf("ingested_at %v", it.IngestedAt)
				}
				if it.Range.Length < 0 {
					covered = tt.size
				} else {
					if it.Range.Offset != covered {
						t.Errorf("item %d starts at %d, want %d", i, it.Range.Offset, covered)
					}
					covered += it.Range.Length
				}
			}
			if covered != tt.size {
				t.Errorf("ranges cover %d of %d bytes", covered, tt.size)
			}
			for _, n := range f.queue.sizes {
				if n > MaxBatch {
					t.Errorf("batch of %d", n)
				}
			}
			if c := f.ledger.claims[ClaimKey("bronze", tt.key, "etag1")]; c == nil || !c.done {
				t.Errorf("claim not completed: %+v", c)
			}
		})
	}
}

// A million ~120-byte records is ~120 MB: with 1 MiB chunks that is on the
// order of a hundred messages, and with the 64 MiB default two.
func TestMillionRecordsCostAboutAHundredMessages(t *testing.T) {
	const size = 1_000_000 * 120
	for _, tt := range []struct {
		chunk    int64
		min, max int
	}{{1 << 20, 100, 130}, {0, 2, 2}} {
		f := newFixture(t, Config{ChunkBytes: tt.chunk})
		f.put("bronze", "bronze/m.jsonl", "e", size)
		out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/m.jsonl", "e")))
		if err != nil {
			t.Fatal(err)
		}
		if out.Messages < tt.min || out.Messages > tt.max {
			t.Errorf("chunk %d: %d messages, want %d..%d", tt.chunk, out.Messages, tt.min, tt.max)
		}
	}
}

func TestDuplicateEventIsSkipped(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("bronze", "bronze/a.jsonl", "e1", 10)
	ev := event(created("bronze", "bronze/a.jsonl", "e1"), created("bronze", "bronze/a.jsonl", "e1"))
	out, err := f.h.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Output{Objects: 2, Claimed: 1, Skipped: 1, Messages: 1}); out != want {
		t.Fatalf("out = %+v, want %+v", out, want)
	}
	out, err = f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e1")))
	if err != nil || out.Skipped != 1 || out.Messages != 0 {
		t.Fatalf("redelivered event: %+v %v", out, err)
	}
	// After the done TTL the version may be ingested again.
	f.now = f.now.Add(DefaultDoneTTL + time.Second)
	out, err = f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e1")))
	if err != nil || out.Claimed != 1 {
		t.Fatalf("after ttl: %+v %v", out, err)
	}
}

func TestHeldClaimIsRetryable(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("bronze", "bronze/a.jsonl", "e1", 10)
	ck := ClaimKey("bronze", "bronze/a.jsonl", "e1")
	if _, err := f.ledger.Claim(t.Context(), ck, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e1")))
	var held *ClaimHeld
	if !errors.As(err, &held) || held.Key != ck {
		t.Fatalf("err = %v, want ClaimHeld", err)
	}
	if len(f.queue.sent) != 0 {
		t.Fatal("sent while held")
	}
	// The other worker crashed: its lease expires and we take over.
	f.now = f.now.Add(time.Minute)
	out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e1")))
	if err != nil || out.Claimed != 1 {
		t.Fatalf("after lease: %+v %v", out, err)
	}
}

func TestChangedOrDeletedObjectIsSuperseded(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("bronze", "bronze/a.jsonl", "new", 10)
	ev := event(created("bronze", "bronze/a.jsonl", "old"), created("bronze", "bronze/gone.jsonl", "x"))
	out, err := f.h.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Output{Objects: 2, Superseded: 2}); out != want {
		t.Fatalf("out = %+v, want %+v", out, want)
	}
	if len(f.queue.sent) != 0 {
		t.Fatal("queued a superseded version")
	}
	// The overwrite's own event ingests the new version.
	out, err = f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "new")))
	if err != nil || out.Claimed != 1 {
		t.Fatalf("new version: %+v %v", out, err)
	}
}

func TestEventWithoutETagUsesCurrentVersion(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("bronze", "bronze/a.jsonl", "cur", 10)
	out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "")))
	if err != nil || out.Claimed != 1 {
		t.Fatalf("%+v %v", out, err)
	}
	if f.ledger.claims[ClaimKey("bronze", "bronze/a.jsonl", "cur")] == nil {
		t.Fatal("claim not keyed by the current etag")
	}
}

func TestPartialBatchFailuresAreRetriedPerEntry(t *testing.T) {
	f := newFixture(t, Config{ChunkBytes: 10})
	f.put("bronze", "bronze/a.jsonl", "e", 120) // 12 chunks: batches of 10 and 2
	// Call 1 fails entries c3 and c7; call 2 (their retry) fails c7 again.
	f.queue.fail = func(call int, e queue.SendEntry) *queue.SendFailure {
		if (call == 1 && (e.ID == "c3" || e.ID == "c7")) || (call == 2 && e.ID == "c7") {
			return &queue.SendFailure{Code: "ServiceUnavailable", Message: "try again"}
		}
		return nil
	}
	out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e")))
	if err != nil {
		t.Fatal(err)
	}
	if out.Messages != 12 || len(f.queue.sent) != 12 {
		t.Fatalf("out %+v, sent %d", out, len(f.queue.sent))
	}
	seen := map[string]bool{}
	for _, e := range f.queue.sent {
		if seen[e.ID] {
			t.Errorf("entry %s sent twice", e.ID)
		}
		seen[e.ID] = true
	}
	if want := []int{10, 2, 1, 2}; fmt.Sprint(f.queue.sizes) != fmt.Sprint(want) {
		t.Errorf("batch sizes %v, want %v", f.queue.sizes, want)
	}
	if want := []time.Duration{DefaultBackoff, 2 * DefaultBackoff}; fmt.Sprint(f.sleeps) != fmt.Sprint(want) {
		t.Errorf("sleeps %v, want %v", f.sleeps, want)
	}
}

func TestSendFailureReleasesClaim(t *testing.T) {
	tests := []struct {
		name    string
		fail    func(int, queue.SendEntry) *queue.SendFailure
		callErr func(int) error
		calls   int
	}{
		{
			name:  "entry keeps failing",
			fail:  func(int, queue.SendEntry) *queue.SendFailure { return &queue.SendFailure{Code: "InternalError"} },
			calls: 3,
		},
		{
			name: "sender fault is not retried",
			fail: func(int, queue.SendEntry) *queue.SendFailure {
				return &queue.SendFailure{SenderFault: true, Code: "InvalidMessageContents"}
			},
			calls: 1,
		},
		{
			name:    "call keeps failing",
			callErr: func(int) error { return fault.New(fault.Transient, "send", errors.New("throttled")) },
			calls:   3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{SendAttempts: 3})
			f.put("bronze", "bronze/a.jsonl", "e", 10)
			f.queue.fail, f.queue.callErr = tt.fail, tt.callErr
			out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e")))
			if err == nil {
				t.Fatal("want error")
			}
			if out.Claimed != 0 || out.Messages != 0 {
				t.Errorf("out = %+v", out)
			}
			if f.queue.calls != tt.calls {
				t.Errorf("%d calls, want %d", f.queue.calls, tt.calls)
			}
			if _, ok := f.ledger.claims[ClaimKey("bronze", "bronze/a.jsonl", "e")]; ok {
				t.Error("claim not released")
			}
			// The retried event succeeds once the queue recovers.
			f.queue.fail, f.queue.callErr = nil, nil
			if out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e"))); err != nil || out.Claimed != 1 {
				t.Fatalf("retry: %+v %v", out, err)
			}
		})
	}
}

func TestOneBadObjectDoesNotStopTheOthers(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("bronze", "bronze/ok.jsonl", "e", 10)
	f.put("bronze", "bronze/bad.jsonl", "e", 10)
	f.queue.callErr = func(int) error { return nil }
	f.queue.fail = func(_ int, e queue.SendEntry) *queue.SendFailure {
		if it, _ := work.Decode(e.Body); it.Key == "bronze/bad.jsonl" {
			return &queue.SendFailure{SenderFault: true, Code: "Refused"}
		}
		return nil
	}
	var ignored events.S3EventRecord
	ignored.EventName = "ObjectRemoved:Delete"
	out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/bad.jsonl", "e"), created("bronze", "bronze/ok.jsonl", "e"), ignored))
	if err == nil {
		t.Fatal("want error for the bad object")
	}
	if want := (Output{Objects: 2, Claimed: 1, Ignored: 1, Messages: 1}); out != want {
		t.Fatalf("out = %+v, want %+v", out, want)
	}
}

func TestHeadErrorReleases(t *testing.T) {
	f := newFixture(t, Config{})
	f.store.err = fault.New(fault.Transient, "head", errors.New("503"))
	_, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/a.jsonl", "e")))
	if !fault.Is(err, fault.Transient) {
		t.Fatalf("err = %v", err)
	}
	if len(f.ledger.claims) != 0 {
		t.Fatal("claim kept after a failed head")
	}
}

func TestTestEventIsIgnored(t *testing.T) {
	f := newFixture(t, Config{})
	ev, err := ParseEvent([]byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"b","RequestId":"5582815E1AEA5ADF","HostId":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.h.Handle(t.Context(), ev)
	if err != nil || out != (Output{}) {
		t.Fatalf("%+v %v", out, err)
	}
	if len(f.ledger.log) != 0 {
		t.Fatal("touched the ledger")
	}
}

// Two Lambda invocations handling duplicate events at the same time: the
// second sees the first's claim as held (not its own to renew) and retries.
func TestConcurrentInvocationsDoNotShareAClaim(t *testing.T) {
	f := newFixture(t, Config{})
	f.put("bronze", "bronze/a.jsonl", "e", 10)
	ck := ClaimKey("bronze", "bronze/a.jsonl", "e")
	first := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	if out, err := f.ledger.Claim(first, ck, f.h.owner(first), time.Minute); err != nil || out != ledger.Claimed {
		t.Fatalf("first claim %v %v", out, err)
	}
	second := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-2"})
	_, err := f.h.Handle(second, event(created("bronze", "bronze/a.jsonl", "e")))
	var held *ClaimHeld
	if !errors.As(err, &held) {
		t.Fatalf("err = %v, want ClaimHeld", err)
	}
	if f.ledger.claims[ck].owner != "ingest/req-1" {
		t.Fatalf("owner %q", f.ledger.claims[ck].owner)
	}
}

// A replay copy's content identity comes from its metadata (the event has
// none): every item carries it, the claim stays keyed by the copy's own
// ETag, and objects whose identity is their ETag send no content_etag.
func TestContentETagFromMetadata(t *testing.T) {
	tests := []struct {
		name      string
		meta      map[string]string
		eventETag string
		want      string // Item.ContentETag
	}{
		{"replay copy of a multipart upload", map[string]string{work.ContentETagMeta: "orig-2"}, `"copy1"`, "orig-2"},
		{"replay copy, event without ETag", map[string]string{work.ContentETagMeta: "orig-2"}, "", "orig-2"},
		{"copy that kept its ETag", map[string]string{work.ContentETagMeta: "copy1"}, `"copy1"`, ""},
		{"no metadata", nil, `"copy1"`, ""},
		{"unusable metadata", map[string]string{work.ContentETagMeta: "a/../b"}, `"copy1"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{ChunkBytes: 100})
			f.store.objs["bronze/bronze/replay/r/a.jsonl"] = objstore.ObjectInfo{Bucket: "bronze", Key: "bronze/replay/r/a.jsonl", ETag: "copy1", Size: 250, Metadata: tt.meta}
			out, err := f.h.Handle(t.Context(), event(created("bronze", "bronze/replay/r/a.jsonl", tt.eventETag)))
			if err != nil || out.Claimed != 1 || out.Messages != 3 {
				t.Fatalf("out %+v, %v", out, err)
			}
			for _, it := range decodeSent(t, f.queue) {
				if it.ETag != "copy1" || it.ContentETag != tt.want {
					t.Fatalf("item etag %q content_etag %q, want copy1 and %q", it.ETag, it.ContentETag, tt.want)
				}
			}
			for _, e := range f.queue.sent {
				if has := strings.Contains(e.Body, `"content_etag"`); has != (tt.want != "") {
					t.Fatalf("message %s: content_etag present %v, want %v", e.Body, has, tt.want != "")
				}
			}
			if f.ledger.claims[ClaimKey("bronze", "bronze/replay/r/a.jsonl", "copy1")] == nil {
				t.Fatal("claim not keyed by the copy's own ETag")
			}
		})
	}
}
