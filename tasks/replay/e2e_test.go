package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/asl"
	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/ledger/boltledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/copyetag"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/internal/work"
	"github.com/serverless-elt/elt/tasks/replay"
	"github.com/serverless-elt/elt/tasks/silverpoll"
	"github.com/serverless-elt/elt/tasks/transform"
	"github.com/serverless-elt/elt/tasks/validateinput"
	"github.com/serverless-elt/elt/workflows"
)

// vclock is the stack's virtual clock: Sleep advances it.
type vclock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *vclock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

type outbox struct {
	mu   sync.Mutex
	msgs []string
}

func (o *outbox) Publish(_ context.Context, subject, message string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, subject+": "+message)
	return fmt.Sprint(len(o.msgs)), nil
}

// bronzeObject is n good records (two record types, two days) and one bad
// line, as JSON Lines.
func bronzeObject(obj, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("o%d-e%d", obj, i)
		day := 1 + i%2
		if i%3 == 0 {
			fmt.Fprintf(&b, `{"record_type":"tracking_events","event_id":%q,"shipment_id":"S%d","status":"moved","city":"Oslo","event_time":"2026-11-0%dT10:00:00Z"}`+"\n", id, i, day)
		} else {
			fmt.Fprintf(&b, `{"record_type":"shipments","event_id":%q,"shipment_id":"S%d","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":%d.5,"event_time":"2026-11-0%dT10:00:00Z"}`+"\n", id, i, i, day)
		}
	}
	b.WriteString(`{"record_type":"shipments",` + "\n")
	return b.String()
}

// silverRows reads every silver Parquet file back and returns the event ids.
func silverRows(t *testing.T, st objstore.Store) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	token := ""
	for {
		page, err := st.List(ctx, "silver", objstore.ListOptions{Prefix: "silver/", ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			rc, _, err := st.Get(ctx, "silver", o.Key, nil)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			leaf, ok := f.Schema().Lookup("event_id")
			if !ok {
				t.Fatalf("%s has no event_id column", o.Key)
			}
			for _, rg := range f.RowGroups() {
				rows := make([]parquet.Row, rg.NumRows())
				r := rg.Rows()
				n, err := r.ReadRows(rows)
				r.Close()
				if err != nil && err != io.EOF {
					t.Fatal(err)
				}
				for _, row := range rows[:n] {
					for _, v := range row {
						if v.Column() == leaf.ColumnIndex {
							ids = append(ids, v.String())
						}
					}
				}
			}
		}
		if token = page.NextContinuationToken; token == "" {
			break
		}
	}
	sort.Strings(ids)
	return ids
}

// TestOpsReplayEndToEnd runs the ops workflow on the engine with the real
// validate_input, replay and silverpoll handlers against the embedded
// stack: bronze is seeded and processed, the workflow replays the window
// through a distributed Map over the bronze listing, the stack's hot path
// processes the copies while the workflow waits, and the poll proves they
// landed. Silver must hold every record exactly once afterwards.
//
// It runs twice: on the embedded store, whose copies keep their source's
// ETag, and on the same store wrapped so that copies get a new ETag, as S3
// gives the CopyObject of a multipart-uploaded object (copyetag). The
// second is the AWS case the content identity (elt-content-etag) is for.
func TestOpsReplayEndToEnd(t *testing.T) {
	tests := []struct {
		name     string
		newETags bool
	}{
		{"copies keep the ETag", false},
		{"copies get new ETags as on S3 for multipart sources", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runOpsReplayEndToEnd(t, tc.newETags) })
	}
}

// openStack opens the embedded stack on a fresh data dir; with newETags its
// store (for every task: ingest, transform, replay, poll, listing) is
// wrapped so that copies get a new ETag.
func openStack(t *testing.T, clk *vclock, newETags bool) *embedded.Stack {
	t.Helper()
	cfg := embedded.Config{DataDir: t.TempDir(), Now: clk.Now, Sleep: clk.Sleep, Settle: -1, ChunkBytes: 1500}
	if !newETags {
		stack, err := embedded.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return stack
	}
	cfg = cfg.WithDefaults()
	fs, err := embedded.OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := copyetag.Wrap(fs)
	q, err := boltqueue.Open(filepath.Join(cfg.DataDir, "queue.db"), boltqueue.Options{
		VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount, Now: cfg.Now})
	if err != nil {
		t.Fatal(err)
	}
	l, err := boltledger.Open(filepath.Join(cfg.DataDir, "ledger.db"), boltledger.Options{Now: cfg.Now})
	if err != nil {
		q.Close()
		t.Fatal(err)
	}
	tmp := t.TempDir()
	stack, err := embedded.New(cfg, embedded.Backends{Store: st, Queue: q, Ledger: l, Closers: []io.Closer{q, l}}, embedded.Handlers{
		Plan: chunk.Plan,
		Transform: func(b bus.Bus) (embedded.TransformFunc, error) {
			return embedded.TransformHandler(transform.New(st, b, records.Default(), cfg.Now, cfg.Log, transform.Config{
				Bucket: cfg.SilverBucket, Layout: silver.Layout{SilverPrefix: cfg.SilverPrefix, QuarantinePrefix: cfg.QuarantinePrefix},
				TempDir: tmp, Concurrency: 1,
			})), nil
		},
	})
	if err != nil {
		q.Close()
		l.Close()
		t.Fatal(err)
	}
	return stack
}

func runOpsReplayEndToEnd(t *testing.T, newETags bool) {
	ctx := context.Background()
	seeded := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	clk := &vclock{now: seeded}
	stack := openStack(t, clk, newETags)
	defer stack.Close()
	st := stack.Store()

	// Seed: three shipments objects in the window, one older, one of
	// another prefix; process them.
	const perObject = 25
	put := func(key, body string, at time.Time) {
		clk.mu.Lock()
		clk.now = at
		clk.mu.Unlock()
		if _, err := st.Put(ctx, "bronze", key, strings.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	put("bronze/shipments/old.jsonl", bronzeObject(0, perObject), seeded.Add(-30*time.Hour))
	for i := 1; i <= 3; i++ {
		put(fmt.Sprintf("bronze/shipments/2026/11/02/part-%d.jsonl", i), bronzeObject(i, perObject), seeded.Add(time.Duration(i)*time.Minute))
	}
	put("bronze/tracking/t.jsonl", bronzeObject(9, perObject), seeded.Add(5*time.Minute))
	if _, err := stack.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	before := silverRows(t, st)
	if len(before) != 5*perObject {
		t.Fatalf("seeded silver holds %d rows, want %d", len(before), 5*perObject)
	}

	runOps := func(name string, hotPath bool) (engine.Execution, *outbox, int) {
		def, err := workflows.OpsReplayQuality().Definition()
		if err != nil {
			t.Fatal(err)
		}
		def, err = asl.Substitute(def, map[string]string{
			"validate_input_function_arn": "validate_input",
			"replay_function_arn":         "replay",
			"silverpoll_function_arn":     "silverpoll",
			"notification_topic_arn":      "arn:aws:sns:local:000000000000:elt-notifications",
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := engine.Compile(def)
		if err != nil {
			t.Fatal(err)
		}
		notes := &outbox{}
		eng := engine.New(engine.Options{Clock: &engine.VirtualClock{Epoch: seeded.Add(2 * time.Hour)}, Services: engine.Services{Objects: st, Notifier: notes}, Seed: 7})
		vt, _ := validateinput.New(validateinput.Deps{}, validateinput.Config{})
		rt, err := replay.New(replay.Deps{Store: st}, replay.Config{BronzePrefix: stack.Config().BronzePrefix})
		if err != nil {
			t.Fatal(err)
		}
		pt, err := silverpoll.New(silverpoll.Deps{Store: st}, silverpoll.Config{})
		if err != nil {
			t.Fatal(err)
		}
		polls := 0
		eng.Tasks().Register("validate_input", engine.Typed(vt.Handle))
		eng.Tasks().Register("replay", engine.Typed(rt.Handle))
		// The hot path runs "while the workflow waits": after each poll
		// that is not ready, the stack processes what is pending.
		eng.Tasks().Register("silverpoll", engine.Typed(func(ctx context.Context, in silverpoll.Input) (silverpoll.Output, error) {
			polls++
			out, err := pt.Handle(ctx, in)
			if err == nil && !out.Ready && hotPath {
				if _, err := stack.RunUntilIdle(ctx); err != nil {
					return out, err
				}
			}
			return out, err
		}))
		input := `{"bronze_bucket":"bronze","src_prefix":"bronze/shipments/","dest_prefix_base":"bronze/replay","window_hours":6,
"silver_bucket":"silver","silver_prefix":"silver/","poll_interval_seconds":30,"max_attempts":5}`
		x, err := eng.Execute(ctx, engine.StartInput{Machine: m, StateMachineName: workflows.OpsName, Name: name, Input: input})
		if err != nil {
			t.Fatal(err)
		}
		return x, notes, polls
	}

	x, notes, polls := runOps("ops-e2e-1", true)
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("status %s %s: %s; notifications %v", x.Status, x.Error, x.Cause, notes.msgs)
	}
	var out struct {
		Poll struct {
			Payload silverpoll.Output `json:"Payload"`
		} `json:"poll"`
		Attempt struct{ Count int } `json:"attempt"`
	}
	if err := json.Unmarshal([]byte(*x.Output), &out); err != nil {
		t.Fatal(err)
	}
	p := out.Poll.Payload
	if polls != 2 || out.Attempt.Count != 2 || !p.Ready || p.ExpectedObjects != 3 || p.LandedObjects != 3 || p.Rows != 3*perObject || len(notes.msgs) != 0 {
		t.Fatalf("%d polls, output %s", polls, *x.Output)
	}
	after := silverRows(t, st)
	if strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("silver changed: %d rows before, %d after", len(before), len(after))
	}
	for i := 1; i < len(after); i++ {
		if after[i] == after[i-1] {
			t.Fatalf("duplicate event_id %s", after[i])
		}
	}
	copies := copyKeys(t, st, "ops-e2e-1")
	want := []string{
		"bronze/replay/ops-e2e-1/shipments/2026/11/02/part-1.jsonl",
		"bronze/replay/ops-e2e-1/shipments/2026/11/02/part-2.jsonl",
		"bronze/replay/ops-e2e-1/shipments/2026/11/02/part-3.jsonl",
	}
	if strings.Join(copies, ",") != strings.Join(want, ",") {
		t.Fatalf("copies %v, want %v", copies, want)
	}
	// Every copy carries its source's ETag as content identity; under the
	// S3-like store the copy's own ETag differs from it.
	for _, c := range copyList(t, st, "ops-e2e-1") {
		head, err := st.Head(ctx, "bronze", c.DestKey)
		if err != nil {
			t.Fatal(err)
		}
		if got := work.ContentETagOf(head); got != c.SourceETag || c.Identity() != c.SourceETag || (c.ETag != c.SourceETag) != newETags {
			t.Fatalf("copy %+v: identity %s (object ETag %s), new ETags %v", c, got, head.ETag, newETags)
		}
	}

	// The same execution name again: the same window, the same keys
	// (overwritten, not added), earlier copies not copied, silver unchanged.
	x2, notes2, _ := runOps("ops-e2e-1", true)
	if x2.Status != engine.StatusSucceeded {
		t.Fatalf("second run: %s %s: %s; %v", x2.Status, x2.Error, x2.Cause, notes2.msgs)
	}
	if got := copyKeys(t, st, "ops-e2e-1"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("second run copied to %v", got)
	}
	page, err := st.List(ctx, "bronze", objstore.ListOptions{Prefix: "bronze/replay/"})
	if err != nil || len(page.Objects) != len(want) {
		t.Fatalf("bronze/replay holds %d objects (%v)", len(page.Objects), err)
	}
	if _, err := stack.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if final := silverRows(t, st); strings.Join(final, ",") != strings.Join(before, ",") {
		t.Fatalf("silver changed after the second replay: %d rows", len(final))
	}

	// With the hot path stalled the copies never land: the poll runs out
	// of attempts, the workflow notifies and fails naming what is missing.
	x3, notes3, polls3 := runOps("ops-e2e-stalled", false)
	if x3.Status != engine.StatusFailed || x3.Error != workflows.ErrSilverNotReady || polls3 != 5 ||
		!strings.Contains(x3.Cause, "0 of 3 replayed objects landed in s3://silver/silver/ after 5 polls") ||
		!strings.Contains(x3.Cause, "bronze/replay/ops-e2e-stalled/shipments/2026/11/02/part-1.jsonl") {
		t.Fatalf("stalled run: %s %s %q after %d polls", x3.Status, x3.Error, x3.Cause, polls3)
	}
	if len(notes3.msgs) != 1 || !strings.Contains(notes3.msgs[0], workflows.ErrSilverNotReady) {
		t.Fatalf("notifications %v", notes3.msgs)
	}
}

// copyKeys lists the dest keys of an execution's copy lists.
func copyKeys(t *testing.T, st objstore.Store, exec string) []string {
	t.Helper()
	var keys []string
	for _, c := range copyList(t, st, exec) {
		keys = append(keys, c.DestKey)
	}
	sort.Strings(keys)
	return keys
}

// copyList reads every copy of an execution's copy lists.
func copyList(t *testing.T, st objstore.Store, exec string) []replay.Copy {
	t.Helper()
	page, err := st.List(context.Background(), "silver", objstore.ListOptions{Prefix: replay.CopyListDir(exec)})
	if err != nil {
		t.Fatal(err)
	}
	var all []replay.Copy
	for _, o := range page.Objects {
		rc, _, err := st.Get(context.Background(), "silver", o.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		var l replay.CopyList
		err = json.NewDecoder(rc).Decode(&l)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, l.Copies...)
	}
	return all
}
