package silverpoll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/copyetag"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/internal/work"
	"github.com/serverless-elt/elt/tasks/replay"
	"github.com/serverless-elt/elt/tasks/transform"
)

var t0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

type nopBus struct{}

func (nopBus) Put(context.Context, []bus.Event) error { return nil }

// world is a bronze and silver bucket with a replay already made: two
// objects copied, one of them in several chunks.
type world struct {
	store *fsstore.Store
	// st is what the tasks use: store, or a wrapper of it.
	st   objstore.Store
	tf   *transform.Handler
	poll *Task
	// copies are the replayed objects (dest keys), rows their good records.
	copies []objstore.ObjectInfo
	rows   int64
}

const chunkBytes = 500

func shipment(i int) string {
	return fmt.Sprintf(`{"record_type":"shipments","event_id":"s%d","shipment_id":"S%d","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":%d.5,"event_time":"2024-05-01T10:00:00Z"}`, i, i, i)
}

func newWorld(t *testing.T) *world { return newWorldOn(t, nil) }

// newWorldOn runs the tasks on wrap(store) when wrap is not nil.
func newWorldOn(t *testing.T, wrap func(objstore.Store) objstore.Store) *world {
	t.Helper()
	ctx := context.Background()
	fs, err := fsstore.New(t.TempDir(), fsstore.Options{Now: func() time.Time { return t0.Add(-time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"bronze", "silver"} {
		if err := fs.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	var st objstore.Store = fs
	if wrap != nil {
		st = wrap(fs)
	}
	w := &world{store: fs, st: st}
	var big strings.Builder
	for i := 0; i < 12; i++ {
		big.WriteString(shipment(i) + "\n")
	}
	big.WriteString("{broken\n")
	for key, body := range map[string]string{"bronze/shipments/big.jsonl": big.String(), "bronze/shipments/small.jsonl": shipment(100) + "\n"} {
		if _, err := st.Put(ctx, "bronze", key, strings.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	w.rows = 13
	rp, err := replay.New(replay.Deps{Store: st}, replay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := 2
	out, err := rp.Handle(ctx, replay.Input{Request: replay.Request{BronzeBucket: "bronze", SrcPrefix: "bronze/shipments/", DestPrefixBase: "bronze/replay",
		ExecutionName: "run-1", ExecutionStart: t0.Format(time.RFC3339), WindowHours: &h, SilverBucket: "silver"}})
	if err != nil || out.Copied != 2 {
		t.Fatalf("replay %+v %v", out, err)
	}
	for _, k := range []string{"bronze/replay/run-1/shipments/big.jsonl", "bronze/replay/run-1/shipments/small.jsonl"} {
		oi, err := st.Head(ctx, "bronze", k)
		if err != nil {
			t.Fatal(err)
		}
		w.copies = append(w.copies, oi)
	}
	if n := len(chunk.Plan(w.copies[0].Size, chunkBytes)); n < 4 {
		t.Fatalf("the big object must span at least 4 chunks, plan gives %d", n)
	}
	w.tf = transform.New(st, nopBus{}, records.Default(), func() time.Time { return t0 }, slog.New(slog.NewTextHandler(io.Discard, nil)),
		transform.Config{Bucket: "silver", TempDir: t.TempDir(), Concurrency: 1})
	if w.poll, err = New(Deps{Store: st}, Config{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// transform runs chunks (nil: all) of an object as ingest would plan them
// (with the content identity of oi, its Head).
func (w *world) transform(t *testing.T, oi objstore.ObjectInfo, only []int) {
	t.Helper()
	w.transformAs(t, oi, only, work.ContentETagOf(oi))
}

// transformAs is transform with a given content identity ("" or the ETag:
// none).
func (w *world) transformAs(t *testing.T, oi objstore.ObjectInfo, only []int, identity string) {
	t.Helper()
	if identity == oi.ETag {
		identity = ""
	}
	rngs := chunk.Plan(oi.Size, chunkBytes)
	var in transform.Input
	for i, r := range rngs {
		if only != nil && !contains(only, i) {
			continue
		}
		body, _ := work.Item{Bucket: oi.Bucket, Key: oi.Key, ETag: oi.ETag, ContentETag: identity, Size: oi.Size, Range: r, Chunk: i, Chunks: len(rngs), Format: work.JSONL, IngestedAt: t0}.Encode()
		in.Records = append(in.Records, transform.Message{MessageID: fmt.Sprint(i), Body: body})
	}
	out, err := w.tf.Handle(context.Background(), in)
	if err != nil || len(out.BatchItemFailures) > 0 {
		t.Fatalf("transform %+v %v", out, err)
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (w *world) silverFiles(t *testing.T) []string {
	page, err := w.store.List(context.Background(), "silver", objstore.ListOptions{Prefix: "silver/"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func TestPoll(t *testing.T) {
	big, small := "bronze/replay/run-1/shipments/big.jsonl", "bronze/replay/run-1/shipments/small.jsonl"
	tests := []struct {
		name    string
		setup   func(t *testing.T, w *world)
		ready   bool
		landed  int
		rows    int64
		missing []string
	}{
		{"nothing transformed yet", func(t *testing.T, w *world) {}, false, 0, 0, []string{big, small}},
		{"everything landed", func(t *testing.T, w *world) {
			w.transform(t, w.copies[0], nil)
			w.transform(t, w.copies[1], nil)
		}, true, 2, 13, nil},
		{"one chunk missing", func(t *testing.T, w *world) {
			w.transform(t, w.copies[0], []int{0, 2, 3})
			w.transform(t, w.copies[1], nil)
		}, false, 1, 1, []string{big}},
		{"only the originals were transformed, not the copies", func(t *testing.T, w *world) {
			for _, k := range []string{"bronze/shipments/big.jsonl", "bronze/shipments/small.jsonl"} {
				oi, _ := w.store.Head(context.Background(), "bronze", k)
				w.transform(t, oi, nil)
			}
		}, false, 0, 0, []string{big, small}},
		{"a silver file deleted after its receipt", func(t *testing.T, w *world) {
			w.transform(t, w.copies[0], nil)
			w.transform(t, w.copies[1], nil)
			files := w.silverFiles(t)
			if err := w.store.Delete(context.Background(), "silver", files[len(files)-1]); err != nil {
				t.Fatal(err)
			}
		}, false, 1, 12, []string{small}},
		{"a silver file holding fewer rows than its receipt says", func(t *testing.T, w *world) {
			w.transform(t, w.copies[0], nil)
			w.transform(t, w.copies[1], nil)
			key := silver.Layout{}.SilverKey("shipments", "2024-05-01", w.copies[1].ETag, 0)
			var buf bytes.Buffer
			type row struct {
				EventID string `parquet:"event_id"`
			}
			pw := parquet.NewGenericWriter[row](&buf)
			if _, err := pw.Write([]row{}); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			if _, err := w.store.Put(context.Background(), "silver", key, &buf, nil); err != nil {
				t.Fatal(err)
			}
		}, false, 1, 12, []string{small}},
		{"a silver file that is not Parquet", func(t *testing.T, w *world) {
			w.transform(t, w.copies[0], nil)
			w.transform(t, w.copies[1], nil)
			key := silver.Layout{}.SilverKey("shipments", "2024-05-01", w.copies[1].ETag, 0)
			w.store.Put(context.Background(), "silver", key, strings.NewReader("not parquet"), nil)
		}, false, 1, 12, []string{small}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.setup(t, w)
			out, err := w.poll.Handle(context.Background(), Input{SilverBucket: "silver", SilverPrefix: "silver/", ExecutionName: "run-1"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.missing == nil {
				tt.missing = []string{}
			}
			if out.Ready != tt.ready || out.ExpectedObjects != 2 || out.LandedObjects != tt.landed || out.Rows != tt.rows || fmt.Sprint(out.Missing) != fmt.Sprint(tt.missing) {
				t.Fatalf("out %+v; want ready %v landed %d rows %d missing %v", out, tt.ready, tt.landed, tt.rows, tt.missing)
			}
		})
	}
}

func TestPollInputs(t *testing.T) {
	w := newWorld(t)
	w.transform(t, w.copies[0], nil)
	w.transform(t, w.copies[1], nil)
	ctx := context.Background()
	// Another execution copied nothing: there is nothing to wait for.
	out, err := w.poll.Handle(ctx, Input{SilverBucket: "silver", SilverPrefix: "silver/", ExecutionName: "run-2"})
	if err != nil || !out.Ready || out.ExpectedObjects != 0 {
		t.Fatalf("empty: %+v %v", out, err)
	}
	for _, tc := range []struct {
		name string
		in   Input
		msg  string
	}{
		{"no bucket", Input{ExecutionName: "run-1"}, "required"},
		{"no execution", Input{SilverBucket: "silver"}, "required"},
		{"silver prefix does not match the layout", Input{SilverBucket: "silver", SilverPrefix: "lake", ExecutionName: "run-1"}, `outside silver_prefix "lake/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.poll.Handle(ctx, tc.in)
			var e *Error
			if !errors.As(err, &e) || e.ErrorName() != ErrInvalidInput || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v, want %s with %q", err, ErrInvalidInput, tc.msg)
			}
		})
	}
}

// When S3 gives the copies new ETags (multipart sources), their receipts
// are under the sources' identity: the poll finds them there, checks they
// name the copy's own ETag, and is ready with the original rows once.
// Receipts of the same copies written without the identity (a transform
// from before it) are under the copies' ETags and do not count.
func TestPollCopiesWithNewETag(t *testing.T) {
	big, small := "bronze/replay/run-1/shipments/big.jsonl", "bronze/replay/run-1/shipments/small.jsonl"
	tests := []struct {
		name     string
		identity bool
		ready    bool
		landed   int
		rows     int64
		missing  []string
	}{
		{"transformed with the content identity", true, true, 2, 13, []string{}},
		{"transformed without it", false, false, 0, 0, []string{big, small}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorldOn(t, func(s objstore.Store) objstore.Store { return copyetag.Wrap(s) })
			for _, k := range []string{"bronze/shipments/big.jsonl", "bronze/shipments/small.jsonl"} {
				oi, _ := w.st.Head(context.Background(), "bronze", k)
				w.transform(t, oi, nil)
			}
			before := w.silverFiles(t)
			for _, c := range w.copies {
				src, _ := w.st.Head(context.Background(), "bronze", strings.Replace(c.Key, "replay/run-1/", "", 1))
				if c.ETag == src.ETag || work.ContentETagOf(c) != src.ETag {
					t.Fatalf("copy %+v of %s: want a new ETag and the source's identity", c, src.ETag)
				}
				if tt.identity {
					w.transform(t, c, nil)
				} else {
					w.transformAs(t, c, nil, "")
				}
			}
			if after := w.silverFiles(t); tt.identity && fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("silver files changed from %v to %v", before, after)
			}
			out, err := w.poll.Handle(context.Background(), Input{SilverBucket: "silver", SilverPrefix: "silver/", ExecutionName: "run-1"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Ready != tt.ready || out.ExpectedObjects != 2 || out.LandedObjects != tt.landed || out.Rows != tt.rows || fmt.Sprint(out.Missing) != fmt.Sprint(tt.missing) {
				t.Fatalf("out %+v; want ready %v landed %d rows %d missing %v", out, tt.ready, tt.landed, tt.rows, tt.missing)
			}
		})
	}
}
