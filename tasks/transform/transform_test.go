package transform

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/work"
)

type fakeBus struct {
	mu     sync.Mutex
	events []bus.Event
	fail   bool
}

func (b *fakeBus) Put(_ context.Context, evs []bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return fault.New(fault.Transient, "bus.Put", errors.New("throttled"))
	}
	b.events = append(b.events, evs...)
	return nil
}

// flakyStore fails Puts whose key contains failPut.
type flakyStore struct {
	objstore.Store
	failPut string
}

func (s *flakyStore) Put(ctx context.Context, bucket, key string, body io.Reader, opts *objstore.PutOptions) (objstore.ObjectInfo, error) {
	if s.failPut != "" && strings.Contains(key, s.failPut) {
		return objstore.ObjectInfo{}, fault.New(fault.Transient, "put "+key, errors.New("slow down"))
	}
	return s.Store.Put(ctx, bucket, key, body, opts)
}

var clock = func() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) }

func line(typ string, i int, day int) string {
	ts := fmt.Sprintf("2024-05-%02dT10:00:00Z", day)
	switch typ {
	case "shipments":
		return fmt.Sprintf(`{"record_type":"shipments","event_id":"s%d","shipment_id":"S%d","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":%d.5,"event_time":"%s"}`, i, i, i, ts)
	case "invoice_lines":
		return fmt.Sprintf(`{"record_type":"invoice_lines","event_id":"i%d","invoice_id":"I%d","sku":"A","quantity":%d,"unit_price":2,"line_total":%d,"event_time":"%s"}`, i, i, i, 2*i, ts)
	}
	return fmt.Sprintf(`{"record_type":"tracking_events","event_id":"t%d","shipment_id":"S%d","status":"x","city":"y","event_time":"%s"}`, i, i, ts)
}

// bronze is a mixed JSONL object: 300 good records over 3 types and 2 days,
// and one of each kind of bad input.
func bronze() (content string, good, bad int) {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		b.WriteString(line([]string{"shipments", "invoice_lines", "tracking_events"}[i%3], i, 1+i%2))
		b.WriteString("\r\n")
		good++
		if i%50 == 0 {
			b.WriteString("\n") // blank lines are not records
		}
	}
	for _, l := range []string{
		`{"record_type":"shipments",`, // malformed
		`[1,2]`,                       // not an object
		`{"record_type":"parcels","event_time":"2024-05-01T00:00:00Z"}`,                         // unknown type
		strings.Replace(line("invoice_lines", 1000, 1), `"quantity":1000`, `"quantity":"3"`, 1), // wrong type
		strings.Replace(line("shipments", 1001, 1), `"carrier":"DHL",`, ``, 1),                  // missing field
		`{"record_type":"tracking_events","pad":"` + strings.Repeat("z", 5000) + `"}`,           // oversized
	} {
		b.WriteString(l + "\n")
		bad++
	}
	return b.String(), good, bad
}

type env struct {
	store *fsstore.Store
	bus   *fakeBus
	h     *Handler
}

func newEnv(t *testing.T, wrap func(objstore.Store) objstore.Store) *env {
	st, err := fsstore.New(t.TempDir(), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"raw", "lake"} {
		if err := st.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	var s objstore.Store = st
	if wrap != nil {
		s = wrap(st)
	}
	b := &fakeBus{}
	h := New(s, b, records.Default(), clock, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config{Bucket: "lake", MaxLineBytes: 4096, TempDir: t.TempDir(), Concurrency: 2})
	return &env{store: st, bus: b, h: h}
}

func (e *env) put(t *testing.T, key string, body []byte) objstore.ObjectInfo {
	oi, err := e.store.Put(context.Background(), "raw", key, bytes.NewReader(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return oi
}

// messages plans the object like ingest does.
func messages(t *testing.T, oi objstore.ObjectInfo, chunkBytes int64, format work.Format, gz bool) Input {
	var in Input
	rngs := chunk.Plan(oi.Size, chunkBytes)
	if format == work.JSON || gz {
		rngs = []objstore.Range{{Offset: 0, Length: -1}}
	}
	for i, r := range rngs {
		body, err := work.Item{Bucket: oi.Bucket, Key: oi.Key, ETag: oi.ETag, Size: oi.Size, Range: r, Chunk: i, Chunks: len(rngs),
			Format: format, Gzip: gz, IngestedAt: clock()}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		in.Records = append(in.Records, Message{MessageID: fmt.Sprintf("m%d", i), Body: body})
	}
	return in
}

// silverRows reads every silver file and returns its rows' event ids.
func (e *env) silverRows(t *testing.T) (ids []string, quarantined int) {
	ctx := context.Background()
	page, err := e.store.List(ctx, "lake", objstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range page.Objects {
		path, _ := e.store.Path("lake", o.Key)
		switch {
		case strings.HasSuffix(o.Key, ".parquet"):
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			pf, err := parquet.OpenFile(f, o.Size)
			if err != nil {
				t.Fatal(err)
			}
			for _, rg := range pf.RowGroups() {
				rows := make([]parquet.Row, rg.NumRows())
				n, _ := rg.Rows().ReadRows(rows)
				for _, r := range rows[:n] {
					ids = append(ids, string(r[0].ByteArray()))
				}
			}
			f.Close()
		case strings.HasSuffix(o.Key, ".jsonl"):
			b, _ := os.ReadFile(path)
			quarantined += bytes.Count(b, []byte("\n"))
		}
	}
	sort.Strings(ids)
	return ids, quarantined
}

func TestChunkedObjectLandsOnce(t *testing.T) {
	for _, chunkBytes := range []int64{997, 10_000, 1 << 20} {
		t.Run(fmt.Sprint(chunkBytes), func(t *testing.T) {
			e := newEnv(t, nil)
			content, good, bad := bronze()
			oi := e.put(t, "bronze/mixed.jsonl", []byte(content))
			in := messages(t, oi, chunkBytes, work.JSONL, false)
			out, err := e.h.Handle(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.BatchItemFailures) != 0 || out.Messages != len(in.Records) {
				t.Fatalf("out %+v", out)
			}
			if out.Records != int64(good+bad) || out.Rows != int64(good) || out.Quarantined != int64(bad) || out.Duplicates != 0 {
				t.Fatalf("counts %+v, want good %d bad %d", out, good, bad)
			}
			ids, q := e.silverRows(t)
			if len(ids) != good || q != bad {
				t.Fatalf("silver %d rows, quarantine %d", len(ids), q)
			}
			for i := 1; i < len(ids); i++ {
				if ids[i] == ids[i-1] {
					t.Fatalf("duplicate %s", ids[i])
				}
			}
			// 3 types x 2 days, one event each, naming the files written.
			if len(e.bus.events) != 6 || len(out.Partitions) != 6 {
				t.Fatalf("%d events, %d partitions", len(e.bus.events), len(out.Partitions))
			}
			var pr bus.PartitionReady
			if err := json.Unmarshal(e.bus.events[0].Detail, &pr); err != nil {
				t.Fatal(err)
			}
			if pr.Bucket != "lake" || pr.RecordType != "invoice_lines" || pr.Dt != "2024-05-01" || pr.Prefix != "silver/invoice_lines/dt=2024-05-01/" || pr.Rows != 50 || len(pr.Files) == 0 {
				t.Fatalf("event %+v", pr)
			}

			// Redelivery of the whole batch rewrites the same files.
			if _, err := e.h.Handle(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			ids2, q2 := e.silverRows(t)
			if len(ids2) != good || q2 != bad {
				t.Fatalf("after redelivery: %d rows, %d quarantined", len(ids2), q2)
			}
		})
	}
}

func TestGzipAndJSONArray(t *testing.T) {
	e := newEnv(t, nil)
	content, good, bad := bronze()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(content))
	zw.Close()
	oi := e.put(t, "bronze/mixed.jsonl.gz", gz.Bytes())
	out, err := e.h.Handle(context.Background(), messages(t, oi, 1000, work.JSONL, true))
	if err != nil || out.Rows != int64(good) || out.Quarantined != int64(bad) {
		t.Fatalf("gzip: %+v %v", out, err)
	}
	e2 := newEnv(t, nil)
	arr := `[` + line("shipments", 1, 3) + `, 7, ` + line("tracking_events", 2, 3) + `, {"record_type":"x"`
	oi = e2.put(t, "bronze/a.json", []byte(arr))
	out, err = e2.h.Handle(context.Background(), messages(t, oi, 1000, work.JSON, false))
	if err != nil || out.Rows != 2 || out.Quarantined != 2 {
		t.Fatalf("json: %+v %v", out, err)
	}
}

func TestObsoleteAndBadMessages(t *testing.T) {
	e := newEnv(t, nil)
	content, _, _ := bronze()
	oi := e.put(t, "bronze/a.jsonl", []byte(content))
	in := messages(t, oi, 1<<20, work.JSONL, false)
	e.put(t, "bronze/a.jsonl", []byte(line("shipments", 1, 1)+"\n")) // overwritten: new ETag
	in.Records = append(in.Records, Message{MessageID: "junk", Body: `{"hello":1}`})
	out, err := e.h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Obsolete != 1 || out.Rows != 0 || len(out.BatchItemFailures) != 1 || out.BatchItemFailures[0].ItemIdentifier != "junk" {
		t.Fatalf("out %+v", out)
	}
}

func TestInfrastructureErrorsFailOnlyTheirMessages(t *testing.T) {
	var flaky *flakyStore
	e := newEnv(t, func(s objstore.Store) objstore.Store { flaky = &flakyStore{Store: s}; return flaky })
	content, _, _ := bronze()
	a := e.put(t, "bronze/a.jsonl", []byte(content))
	b := e.put(t, "bronze/b.jsonl", []byte(line("shipments", 9999, 9)+"\n"))
	in := messages(t, a, 1<<20, work.JSONL, false)
	inB := messages(t, b, 1<<20, work.JSONL, false)
	inB.Records[0].MessageID = "b0"
	in.Records = append(in.Records, inB.Records...)
	flaky.failPut = "part-" + a.ETag
	out, err := e.h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.BatchItemFailures) != 1 || out.BatchItemFailures[0].ItemIdentifier != "m0" || out.Rows != 1 {
		t.Fatalf("out %+v", out)
	}
	// The bus failing fails the messages that wrote partitions.
	flaky.failPut = ""
	e.bus.fail = true
	out, err = e.h.Handle(context.Background(), in)
	if err != nil || len(out.BatchItemFailures) != 2 || len(out.Partitions) != 0 {
		t.Fatalf("bus failure: %+v %v", out, err)
	}
}

func TestInputIsLambdaSQSEvent(t *testing.T) {
	var in Input
	if err := json.Unmarshal([]byte(`{"Records":[{"messageId":"id-1","receiptHandle":"h","body":"{}","eventSource":"aws:sqs"}]}`), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Records) != 1 || in.Records[0].MessageID != "id-1" {
		t.Fatalf("%+v", in)
	}
	b, _ := json.Marshal(Output{BatchItemFailures: []ItemFailure{{ItemIdentifier: "id-1"}}})
	if !strings.Contains(string(b), `"batchItemFailures":[{"itemIdentifier":"id-1"}]`) {
		t.Fatal(string(b))
	}
}
