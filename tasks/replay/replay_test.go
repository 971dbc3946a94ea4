package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/copyetag"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/work"
)

// t0 is the execution start; objects are written at chosen times before it.
var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

type fixture struct {
	store *fsstore.Store
	clock *clock
	task  *Task
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	c := &clock{now: t0}
	st, err := fsstore.New(t.TempDir(), fsstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"bronze", "silver"} {
		if err := st.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	task, err := New(Deps{Store: st}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, clock: c, task: task}
}

// put writes key as if at t0 - ago.
func (f *fixture) put(t *testing.T, key string, ago time.Duration) objstore.ObjectInfo {
	t.Helper()
	f.clock.now = t0.Add(-ago)
	oi, err := f.store.Put(context.Background(), "bronze", key, strings.NewReader(`{"k":"`+key+`"}`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.now = t0
	return oi
}

func hours(n int) *int { return &n }

func request(mod func(*Request)) Request {
	r := Request{BronzeBucket: "bronze", SrcPrefix: "bronze/shipments/", DestPrefixBase: "bronze/replay",
		ExecutionName: "run-1", ExecutionStart: t0.Format(time.RFC3339Nano), WindowHours: hours(6), SilverBucket: "silver"}
	if mod != nil {
		mod(&r)
	}
	return r
}

// seed is the bronze fixture: ages relative to t0 and where each key lives.
func seed(t *testing.T, f *fixture) {
	f.put(t, "bronze/shipments/old.jsonl", 7*time.Hour)        // before a 6h window
	f.put(t, "bronze/shipments/edge-start.jsonl", 6*time.Hour) // exactly at start: in
	f.put(t, "bronze/shipments/a.jsonl", 3*time.Hour)          // in
	f.put(t, "bronze/shipments/day/b.jsonl", time.Hour)        // in, nested
	f.put(t, "bronze/shipments/last.jsonl", time.Second)       // in: end is exclusive
	//                                                                  // folder marker
	f.put(t, "bronze/tracking/x.jsonl", time.Hour)                                                               // other prefix
	f.put(t, "bronze/replay/earlier/shipments/a.jsonl", 2*time.Hour)                                             // copy of this base
	f.put(t, "bronze/shipments/replay-old/a.jsonl", 2*time.Hour)                                                 // copy under CopyPrefixes
	f.clock.now = t0.Add(time.Second)                                                                            //
	f.store.Put(context.Background(), "bronze", "bronze/shipments/future.jsonl", strings.NewReader("{}\n"), nil) // at end: out
	f.clock.now = t0
}

func sortedCopies(t *testing.T, f *fixture, exec string) []Copy {
	t.Helper()
	page, err := f.store.List(context.Background(), "silver", objstore.ListOptions{Prefix: CopyListDir(exec)})
	if err != nil {
		t.Fatal(err)
	}
	var all []Copy
	for _, o := range page.Objects {
		rc, _, err := f.store.Get(context.Background(), "silver", o.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		var l CopyList
		err = json.NewDecoder(rc).Decode(&l)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if l.ExecutionName != exec || l.BronzeBucket != "bronze" || !strings.HasSuffix(o.Key, "copies-"+l.BatchID+".json") {
			t.Fatalf("copy list %s: %+v", o.Key, l)
		}
		all = append(all, l.Copies...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].DestKey < all[j].DestKey })
	return all
}

var inWindow = []string{"bronze/shipments/a.jsonl", "bronze/shipments/day/b.jsonl", "bronze/shipments/edge-start.jsonl", "bronze/shipments/last.jsonl"}

func TestWindowRules(t *testing.T) {
	cfg := Config{PageSize: 2, CopyPrefixes: []string{"bronze/shipments/replay-old/"}}
	tests := []struct {
		name    string
		req     Request
		copied  []string // source keys
		skipped int
	}{
		{"window_hours from execution start", request(nil), inWindow, 1},
		{"start/end, start inclusive, end exclusive", request(func(r *Request) {
			r.WindowHours = nil
			r.Start = t0.Add(-3 * time.Hour).Format(time.RFC3339)
			r.End = t0.Add(-time.Second).Format(time.RFC3339)
		}), []string{"bronze/shipments/a.jsonl", "bronze/shipments/day/b.jsonl"}, 1},
		{"start/end with offsets and fractions", request(func(r *Request) {
			r.WindowHours = nil
			r.Start = t0.Add(-7 * time.Hour).In(time.FixedZone("x", 3600)).Format(time.RFC3339Nano)
			r.End = t0.Add(500 * time.Millisecond).Format(time.RFC3339Nano) // truncated to t0
		}), append([]string{"bronze/shipments/old.jsonl"}, inWindow...), 1},
		{"one hour", request(func(r *Request) { r.WindowHours = hours(1) }), []string{"bronze/shipments/day/b.jsonl", "bronze/shipments/last.jsonl"}, 1},
		{"dest base with trailing slash", request(func(r *Request) { r.DestPrefixBase = "bronze/replay/" }), inWindow, 1},
		{"whole bronze prefix: earlier copies skipped", request(func(r *Request) { r.SrcPrefix = "bronze/" }),
			append(inWindow, "bronze/tracking/x.jsonl"), 2},
		// The copies sort after their sources, so the paginated listing
		// meets the copies this very run makes; they are skipped too.
		{"copies made during the listing are skipped", request(func(r *Request) { r.SrcPrefix = "bronze/"; r.DestPrefixBase = "bronze/zz" }),
			append(inWindow, "bronze/replay/earlier/shipments/a.jsonl", "bronze/tracking/x.jsonl"), 1 + len(inWindow) + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cfg)
			seed(t, f)
			out, err := f.task.Handle(context.Background(), Input{Request: tt.req})
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string(nil), tt.copied...)
			sort.Strings(want)
			got := sortedCopies(t, f, "run-1")
			if len(got) != len(want) || out.Copied != len(want) || out.InWindow != len(want) || out.SkippedCopies != tt.skipped {
				t.Fatalf("out %+v, copies %+v; want %v, %d skipped", out, got, want, tt.skipped)
			}
			var srcs []string
			for _, c := range got {
				srcs = append(srcs, c.SourceKey)
				wantDest := strings.TrimSuffix(tt.req.DestPrefixBase, "/") + "/run-1/" + strings.TrimPrefix(c.SourceKey, "bronze/")
				src, _ := f.store.Head(context.Background(), "bronze", c.SourceKey)
				dst, err := f.store.Head(context.Background(), "bronze", c.DestKey)
				if err != nil || c.DestKey != wantDest || dst.ETag != src.ETag || c.ETag != src.ETag || c.SourceETag != src.ETag || c.Size != src.Size {
					t.Fatalf("copy %+v (dest %+v, %v); want dest %s etag %s", c, dst, err, wantDest, src.ETag)
				}
			}
			sort.Strings(srcs)
			if fmt.Sprint(srcs) != fmt.Sprint(want) {
				t.Fatalf("copied %v, want %v", srcs, want)
			}
			if out.CopyList != CopyListDir("run-1")+"copies-"+batchID([]string{"all"})+".json" {
				t.Fatalf("copy list %s", out.CopyList)
			}
		})
	}
}

// A retry (same execution name and start) copies to the same keys and
// rewrites the same list; a later replay never copies the first one's
// copies.
func TestRetryAndLaterReplay(t *testing.T) {
	f := newFixture(t, Config{PageSize: 1, CopyPrefixes: []string{"bronze/shipments/replay-old/"}})
	seed(t, f)
	ctx := context.Background()
	first, err := f.task.Handle(ctx, Input{Request: request(nil)})
	if err != nil {
		t.Fatal(err)
	}
	before := sortedCopies(t, f, "run-1")
	f.clock.now = t0.Add(10 * time.Minute) // the retry runs later; the window does not move
	again, err := f.task.Handle(ctx, Input{Request: request(nil)})
	if err != nil {
		t.Fatal(err)
	}
	after := sortedCopies(t, f, "run-1")
	if first != again || fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("retry differs: %+v vs %+v\n%v\n%v", first, again, before, after)
	}
	// A second execution an hour later: the first run's copies are now in
	// its window but under dest_prefix_base, so skipped.
	f.clock.now = t0.Add(time.Hour)
	later, err := f.task.Handle(ctx, Input{Request: request(func(r *Request) {
		r.ExecutionName = "run-2"
		r.ExecutionStart = t0.Add(time.Hour).Format(time.RFC3339)
		r.SrcPrefix = "bronze/"
	})})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sortedCopies(t, f, "run-2") {
		if strings.Contains(c.SourceKey, "replay/") {
			t.Fatalf("re-copied a replay copy: %+v", c)
		}
	}
	// Skipped: the earlier copy, run-1's four, replay-old. In the window
	// [t0-5h, t0+1h): a, day/b, last, future, tracking/x.
	if later.SkippedCopies != 6 || later.Copied != 5 || later.Listed != 13 {
		t.Fatalf("later %+v", later)
	}
}

// In a distributed Map the task gets {"BatchInput", "Items"} with items as
// the s3:listObjectsV2 ItemReader yields them (quoted Etag, LastModified in
// epoch seconds).
func TestMapBatch(t *testing.T) {
	f := newFixture(t, Config{CopyPrefixes: []string{"bronze/shipments/replay-old/"}})
	seed(t, f)
	ctx := context.Background()
	page, err := f.store.List(ctx, "bronze", objstore.ListOptions{Prefix: "bronze/shipments/"})
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for _, o := range page.Objects {
		items = append(items, fmt.Sprintf(`{"Etag":%q,"Key":%q,"LastModified":%d,"Size":%d,"StorageClass":"STANDARD"}`,
			`"`+o.ETag+`"`, o.Key, o.LastModified.Unix(), o.Size))
	}
	// S3 lists folder markers ("key/", size 0) too; they are not data.
	items = append(items, fmt.Sprintf(`{"Etag":"\"d41d8cd98f00b204e9800998ecf8427e\"","Key":"bronze/shipments/day/","LastModified":%d,"Size":0,"StorageClass":"STANDARD"}`, t0.Add(-time.Hour).Unix()))
	// The workflow passes its whole input as the request, and its own
	// execution name and start time next to it.
	r := request(nil)
	name, start := r.ExecutionName, r.ExecutionStart
	r.ExecutionName, r.ExecutionStart = "", ""
	reqJSON, _ := json.Marshal(r)
	reqJSON = []byte(strings.Replace(string(reqJSON), "{", `{"attempt":{"count":0},`, 1))
	batchInput := fmt.Sprintf(`{"request":%s,"execution_name":%q,"execution_start":%q}`, reqJSON, name, start)
	var total Output
	for i := 0; i < len(items); i += 3 {
		doc := fmt.Sprintf(`{"BatchInput":%s,"Items":[%s]}`, batchInput, strings.Join(items[i:min(i+3, len(items))], ","))
		var in Input
		if err := json.Unmarshal([]byte(doc), &in); err != nil {
			t.Fatal(err)
		}
		out, err := f.task.Handle(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		total.Listed += out.Listed
		total.Copied += out.Copied
	}
	got := sortedCopies(t, f, "run-1")
	if total.Listed != len(items) || total.Copied != len(inWindow) || len(got) != len(inWindow) {
		t.Fatalf("total %+v, copies %v", total, got)
	}
	for i, c := range got {
		if c.SourceKey != inWindow[i] {
			t.Fatalf("copy %d: %+v, want source %s", i, c, inWindow[i])
		}
	}
}

func TestInvalidInput(t *testing.T) {
	f := newFixture(t, Config{})
	tests := []struct {
		name string
		mod  func(*Request)
		msg  string
	}{
		{"no window", func(r *Request) { r.WindowHours = nil }, "give window_hours, or start and end"},
		{"both", func(r *Request) { r.Start = "2024-01-01T00:00:00Z" }, "not both"},
		{"zero hours", func(r *Request) { r.WindowHours = hours(0) }, "at least 1"},
		{"no execution start", func(r *Request) { r.ExecutionStart = "" }, "execution_start is required"},
		{"bad time", func(r *Request) { r.WindowHours = nil; r.Start = "yesterday"; r.End = "2024-01-01T00:00:00Z" }, "not an RFC 3339"},
		{"empty window", func(r *Request) { r.WindowHours = nil; r.Start = "2024-01-01T00:00:00Z"; r.End = r.Start }, "not before"},
		{"dest outside bronze", func(r *Request) { r.DestPrefixBase = "replay" }, "below the bronze prefix"},
		{"dest is bronze itself", func(r *Request) { r.DestPrefixBase = "bronze/" }, "below the bronze prefix"},
		{"bad execution name", func(r *Request) { r.ExecutionName = "a/b" }, "execution_name"},
		{"no bucket", func(r *Request) { r.BronzeBucket = "" }, "bronze_bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.task.Handle(context.Background(), Input{Request: request(tt.mod)})
			var e *Error
			if !errors.As(err, &e) || e.ErrorName() != ErrInvalidInput || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err %v, want %s containing %q", err, ErrInvalidInput, tt.msg)
			}
		})
	}
}

// Under a store whose copies get a new ETag (S3 copying a multipart
// upload), the copies are counted as changed and carry the source's ETag
// as their content identity (metadata and copy list), so their silver
// files keep the source's names.
func TestETagChangedIsCounted(t *testing.T) {
	f := newFixture(t, Config{})
	seed(t, f)
	st := copyetag.Wrap(f.store)
	task, _ := New(Deps{Store: st}, Config{})
	out, err := task.Handle(context.Background(), Input{Request: request(func(r *Request) { r.WindowHours = hours(1) })})
	if err != nil || out.Copied != 2 || out.ETagChanged != 2 {
		t.Fatalf("out %+v %v", out, err)
	}
	for _, c := range sortedCopies(t, f, "run-1") {
		src, _ := f.store.Head(context.Background(), "bronze", c.SourceKey)
		if c.ETag != copyetag.CopyETag(src.ETag) || c.SourceETag != src.ETag || c.ContentETag != src.ETag || c.Identity() != src.ETag {
			t.Fatalf("copy %+v (source ETag %s)", c, src.ETag)
		}
		head, err := st.Head(context.Background(), "bronze", c.DestKey)
		if err != nil || head.ETag != c.ETag || work.ContentETagOf(head) != src.ETag {
			t.Fatalf("copy object %+v %v", head, err)
		}
	}
}

// Every copy carries the source's content identity: the source's own
// elt-content-etag when it has one and lies under the trusted prefixes (a
// copy of a copy), else its ETag; the source's other metadata is kept. A
// value on any other source is not believed (it would be laundered into a
// copy that ingest trusts): the copy gets the source's ETag and replay warns.
func TestCopyCarriesContentIdentity(t *testing.T) {
	const orig = "0123456789abcdef0123456789abcdef-4"
	// An earlier scheduled replay's copy, replayed by a manual run of all of
	// bronze (dest_prefix_base bronze/replay/manual skips only its own).
	copyOfCopy := func(r *Request) { r.SrcPrefix = "bronze/"; r.DestPrefixBase = "bronze/replay/manual" }
	tests := []struct {
		name     string
		key      string
		req      func(*Request)
		meta     map[string]string
		identity func(etag string) string
		warn     bool
	}{
		{"plain source", "bronze/shipments/a.jsonl", nil, nil, func(etag string) string { return etag }, false},
		{"source with other metadata", "bronze/shipments/a.jsonl", nil, map[string]string{"origin": "upload"}, func(etag string) string { return etag }, false},
		{"source that is itself a copy", "bronze/replay/scheduled/s1/shipments/a.jsonl", copyOfCopy, map[string]string{work.ContentETagMeta: orig, "origin": "upload"},
			func(string) string { return orig }, false},
		{"forged identity outside the copy prefixes", "bronze/shipments/a.jsonl", nil, map[string]string{work.ContentETagMeta: orig, "origin": "upload"},
			func(etag string) string { return etag }, true},
		{"source with unusable metadata", "bronze/replay/scheduled/s1/shipments/a.jsonl", copyOfCopy, map[string]string{work.ContentETagMeta: "../x"}, func(etag string) string { return etag }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, Config{})
			var logs bytes.Buffer
			task, err := New(Deps{Store: f.store, Log: slog.New(slog.NewJSONHandler(&logs, nil))}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			f.task = task
			f.clock.now = t0.Add(-time.Hour)
			src, err := f.store.Put(ctx, "bronze", tc.key, strings.NewReader("{}\n"), &objstore.PutOptions{Metadata: tc.meta})
			if err != nil {
				t.Fatal(err)
			}
			f.clock.now = t0
			out, err := f.task.Handle(ctx, Input{Request: request(tc.req)})
			if err != nil || out.Copied != 1 || out.ETagChanged != 0 {
				t.Fatalf("out %+v %v", out, err)
			}
			want := tc.identity(src.ETag)
			cs := sortedCopies(t, f, "run-1")
			if len(cs) != 1 || cs[0].Identity() != want || cs[0].ETag != src.ETag {
				t.Fatalf("copies %+v, want identity %s", cs, want)
			}
			if (cs[0].ContentETag != "") != (want != src.ETag) {
				t.Fatalf("copy list content_etag %q: want it only when it differs from the ETag", cs[0].ContentETag)
			}
			head, err := f.store.Head(ctx, "bronze", cs[0].DestKey)
			if err != nil {
				t.Fatal(err)
			}
			if head.Metadata[work.ContentETagMeta] != want {
				t.Fatalf("copy metadata %v, want %s=%s", head.Metadata, work.ContentETagMeta, want)
			}
			if tc.meta["origin"] != "" && head.Metadata["origin"] != tc.meta["origin"] {
				t.Fatalf("copy metadata %v lost the source's origin", head.Metadata)
			}
			warned := strings.Count(logs.String(), `"msg":"replay.content_etag_ignored"`)
			if tc.warn && (warned != 1 || !strings.Contains(logs.String(), `"key":"`+tc.key+`"`)) || !tc.warn && warned != 0 {
				t.Fatalf("warnings %d (want %v) in log:\n%s", warned, tc.warn, logs.String())
			}
		})
	}
}

// rewriteStore overwrites the source just before the first changes Copy
// calls, as a producer racing the replay would.
type rewriteStore struct {
	objstore.Store
	changes int
	n       int
}

func (s *rewriteStore) Copy(ctx context.Context, sb, sk, db, dk string, opts *objstore.CopyOptions) (objstore.ObjectInfo, error) {
	if s.n < s.changes {
		s.n++
		if _, err := s.Store.Put(ctx, sb, sk, strings.NewReader(fmt.Sprintf("{\"v\":%d}\n", s.n)), nil); err != nil {
			return objstore.ObjectInfo{}, err
		}
	}
	return s.Store.Copy(ctx, sb, sk, db, dk, opts)
}

// A source overwritten between the Head and the Copy is read again, so the
// identity a copy carries is always that of the content it holds; a source
// that never holds still is a retriable failure.
func TestSourceChangedDuringCopy(t *testing.T) {
	tests := []struct {
		name    string
		changes int
		wantErr bool
	}{
		{"changed once", 1, false},
		{"changed on every attempt", copyAttempts, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, Config{})
			f.put(t, "bronze/shipments/a.jsonl", time.Hour)
			st := &rewriteStore{Store: f.store, changes: tc.changes}
			task, _ := New(Deps{Store: st}, Config{})
			out, err := task.Handle(ctx, Input{Request: request(nil)})
			if tc.wantErr {
				var e *Error
				if !errors.As(err, &e) || e.ErrorName() != ErrStoreUnavailable {
					t.Fatalf("err %v, want %s", err, ErrStoreUnavailable)
				}
				return
			}
			if err != nil || out.Copied != 1 {
				t.Fatalf("out %+v %v", out, err)
			}
			cs := sortedCopies(t, f, "run-1")
			cur, _ := f.store.Head(ctx, "bronze", "bronze/shipments/a.jsonl")
			cp, _ := f.store.Head(ctx, "bronze", cs[0].DestKey)
			if cs[0].SourceETag != cur.ETag || cp.ETag != cur.ETag || cp.Metadata[work.ContentETagMeta] != cur.ETag {
				t.Fatalf("copy %+v of %+v: want the current version and its identity", cp, cur)
			}
		})
	}
}
