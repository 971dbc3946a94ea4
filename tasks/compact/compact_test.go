package compact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/duckdbtest"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/objstore/storetest"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/internal/silver"
)

const (
	bucket = "silver"
	testDt = "2024-05-01"
	db     = "elt"
)

var t0 = time.Date(2024, 5, 2, 3, 0, 0, 0, time.UTC)

// env is a real fsstore and localcatalog in temp dirs.
type env struct {
	store *fsstore.Store
	cat   *localcatalog.Catalog
	tmp   string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := fsstore.New(filepath.Join(t.TempDir(), "store"), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := localcatalog.New(filepath.Join(t.TempDir(), "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: st, cat: cat, tmp: t.TempDir()}
}

func (e *env) deps() Deps {
	return Deps{Store: e.store, Catalog: e.cat, Now: func() time.Time { return t0 }}
}

func (e *env) task(t testing.TB) *Task {
	t.Helper()
	tk, err := New(e.deps(), Config{TempDir: e.tmp})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// seeded describes the silver files a seed wrote.
type seeded struct {
	keys     []string       // silver keys of the test partition
	distinct int64          // distinct rows of the test partition (ids + rows without id)
	planted  int64          // duplicate rows planted in the test partition
	noID     int            // rows without event_id in the test partition
	firstObj map[string]int // event id -> index of the first (earliest ingested) file holding it
}

// seed writes files small silver files through the real chunk writer: each
// a chunk of generated shipments (over two days, so a second partition
// exists), every file after the first repeating dupsPerFile records of the
// previous file (same event_id: the planted duplicates) and one record
// without an event_id.
func seed(t testing.TB, st objstore.Store, files, perFile, dupsPerFile int) seeded {
	t.Helper()
	gen, err := fake.New(7, fake.Options{Types: []string{"shipments"}, Start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Days: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := records.Default().NewParser()
	s := seeded{firstObj: map[string]int{}}
	ids := map[string]bool{}
	var prev []string
	noID := regexp.MustCompile(`"event_id":"[^"]*",`)
	for i := 0; i < files; i++ {
		var lines []string
		for len(lines) < perFile {
			line, ok, _ := gen.Next()
			if ok {
				lines = append(lines, string(line))
			}
		}
		cur := slices.Clone(lines)
		if i > 0 {
			lines = append(lines, prev[:dupsPerFile]...)
			lines = append(lines, noID.ReplaceAllString(lines[0], ""))
		}
		prev = cur
		src := silver.Source{Bucket: "bronze", Key: fmt.Sprintf("bronze/shipments/f%03d.jsonl", i),
			ETag: fmt.Sprintf("%032x", i+1), IngestedAt: t0.Add(time.Duration(i) * time.Minute)}
		cw := silver.NewChunkWriter(src, silver.Options{Bucket: bucket}, nil)
		off := int64(0)
		for _, line := range lines {
			var rec records.Record
			if err := p.Parse([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			if err := cw.Add(&rec, silver.Position{Offset: off, Index: -1}); err != nil {
				t.Fatal(err)
			}
			off += int64(len(line) + 1)
			if rec.Dt() != testDt {
				continue
			}
			switch {
			case rec.EventID == "":
				s.distinct++
				s.noID++
			case ids[rec.EventID]:
				s.planted++
			default:
				ids[rec.EventID] = true
				s.firstObj[rec.EventID] = i
				s.distinct++
			}
		}
		ws, err := cw.Commit(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Kind == "silver" && w.Dt == testDt {
				s.keys = append(s.keys, w.Key)
			}
		}
	}
	slices.Sort(s.keys)
	return s
}

func shipments(t testing.TB) *records.Type {
	t.Helper()
	typ, ok := records.Default().Lookup("shipments")
	if !ok {
		t.Fatal("shipments not registered")
	}
	return typ
}

func input(run string, target int64) Input {
	return Input{SilverBucket: bucket, RecordType: "shipments", Dt: testDt, RunID: run, TargetFileBytes: target}
}

// readOutputs decodes every row of the outputs in a manifest.
func readOutputs(t *testing.T, st objstore.Store, m *Manifest) []parquet.Row {
	t.Helper()
	typ, _ := records.Default().Lookup("shipments")
	l := newLayout(typ)
	var rows []parquet.Row
	for _, o := range m.Outputs {
		b := get(t, st, o.Key)
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != o.SHA256 || int64(len(b)) != o.Bytes {
			t.Fatalf("%s: stored bytes do not match the manifest", o.Key)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range pf.Metadata().RowGroups {
			for _, c := range rg.Columns {
				if c.MetaData.Codec != format.Snappy {
					t.Fatalf("%s: column %v is %v, want SNAPPY", o.Key, c.MetaData.PathInSchema, c.MetaData.Codec)
				}
			}
		}
		if !parquet.EqualNodes(pf.Schema(), l.schema) {
			t.Fatalf("%s: schema %v, want silver's %v", o.Key, pf.Schema(), l.schema)
		}
		var n int64
		rows, n, err = l.readRows(bytes.NewReader(b), int64(len(b)), interner{}, rows)
		if err != nil || n != o.Rows {
			t.Fatalf("%s: %d rows, manifest %d: %v", o.Key, n, o.Rows, err)
		}
	}
	return rows
}

func get(t *testing.T, st objstore.Store, key string) []byte {
	t.Helper()
	return storetest.Read(t, st, bucket, key)
}

func manifest(t *testing.T, st objstore.Store, key string) *Manifest {
	t.Helper()
	m, err := ReadManifest(context.Background(), st, bucket, key)
	if err != nil || m == nil {
		t.Fatalf("manifest %s: %v", key, err)
	}
	return m
}

func location(t *testing.T, cat catalog.Catalog) string {
	t.Helper()
	p, err := cat.GetPartition(context.Background(), db, "shipments", []string{testDt})
	if fault.Is(err, fault.NotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return p.Location
}

func TestCompactManySmallFilesWithDuplicates(t *testing.T) {
	e := newEnv(t)
	s := seed(t, e.store, 24, 60, 5)
	out, err := e.task(t).Handle(context.Background(), input("run-1", 24<<10))
	if err != nil {
		t.Fatal(err)
	}
	wantLoc := "s3://silver/silver_compacted/shipments/dt=2024-05-01/run-1/"
	if out.Status != StatusCompacted || !out.Switched || out.Location != wantLoc || out.PreviousLocation != "" {
		t.Fatalf("output %+v", out)
	}
	if out.InputFiles != len(s.keys) || out.OutputFiles >= out.InputFiles || out.OutputFiles < 2 {
		t.Fatalf("%d inputs -> %d outputs; want fewer outputs, at least 2 at a 24 KiB target", out.InputFiles, out.OutputFiles)
	}
	if out.OutputRows != s.distinct || out.DuplicatesRemoved != s.planted || out.InputRows != s.distinct+s.planted {
		t.Fatalf("rows in %d out %d dups %d; want in %d out %d dups %d", out.InputRows, out.OutputRows, out.DuplicatesRemoved,
			s.distinct+s.planted, s.distinct, s.planted)
	}
	if got := location(t, e.cat); got != wantLoc {
		t.Fatalf("catalog location %q, want %q", got, wantLoc)
	}
	tbl, err := e.cat.GetTable(context.Background(), db, "shipments")
	if err != nil || tbl.Location != "s3://silver/silver/shipments/" {
		t.Fatalf("table %+v %v", tbl, err)
	}

	m := manifest(t, e.store, out.ManifestKey)
	if out.ManifestKey != "silver_compacted/shipments/dt=2024-05-01/run-1/_manifest.json" || m.RunID != "run-1" || !m.CreatedAt.Equal(t0) {
		t.Fatalf("manifest %s %+v", out.ManifestKey, m)
	}
	var inKeys []string
	for _, in := range m.Inputs {
		inKeys = append(inKeys, in.Key)
		info, err := e.store.Head(context.Background(), bucket, in.Key)
		if err != nil || info.ETag != in.ETag || in.Rows == 0 {
			t.Fatalf("input %+v: %+v %v", in, info, err)
		}
	}
	if !slices.Equal(inKeys, s.keys) {
		t.Fatalf("manifest inputs %v, want %v", inKeys, s.keys)
	}
	for i, o := range m.Outputs {
		if want := fmt.Sprintf("silver_compacted/shipments/dt=2024-05-01/run-1/part-%05d.parquet", i); o.Key != want {
			t.Fatalf("output %d key %s, want %s", i, o.Key, want)
		}
	}

	rows := readOutputs(t, e.store, m)
	typ, _ := records.Default().Lookup("shipments")
	l := newLayout(typ)
	if int64(len(rows)) != s.distinct {
		t.Fatalf("%d rows read back, want %d", len(rows), s.distinct)
	}
	seen := map[string]bool{}
	noID := 0
	for i, r := range rows {
		if i > 0 && l.i64(rows[i-1], l.eventTime) > l.i64(r, l.eventTime) {
			t.Fatalf("row %d out of event_time order", i)
		}
		if r[l.eventID].IsNull() {
			noID++
			continue
		}
		id := string(r[l.eventID].ByteArray())
		if seen[id] {
			t.Fatalf("event_id %s twice in the output", id)
		}
		seen[id] = true
		// The kept copy is the first ingested one.
		want := fmt.Sprintf("s3://bronze/bronze/shipments/f%03d.jsonl", s.firstObj[id])
		if got := string(r[l.object].ByteArray()); got != want {
			t.Fatalf("event %s kept from %s, want the first copy %s", id, got, want)
		}
	}
	if noID != s.noID || noID == 0 {
		t.Fatalf("%d rows without event_id, want %d (kept, not deduplicated)", noID, s.noID)
	}
	// Nothing was deleted.
	for _, k := range s.keys {
		if _, err := e.store.Head(context.Background(), bucket, k); err != nil {
			t.Fatalf("input %s: %v", k, err)
		}
	}
	duckCheck(t, e, "silver_compacted/shipments/dt=2024-05-01/run-1/*.parquet", out.OutputFiles, s.distinct)
}

// duckCheck reads the outputs with DuckDB, the independent reader: row
// and file counts, distinct event ids, and the column types.
func duckCheck(t *testing.T, e *env, glob string, files int, rows int64) {
	t.Helper()
	path := filepath.Join(e.store.Root(), bucket, glob)
	res := duckdbtest.Inspect(t, path)
	if res.Rows != rows || res.Files != files {
		t.Fatalf("duckdb: %d rows in %d files, want %d in %d", res.Rows, res.Files, rows, files)
	}
	want := map[string]string{
		"event_id": "VARCHAR", "shipment_id": "VARCHAR", "origin": "VARCHAR", "weight_kg": "DOUBLE",
		"event_time": "TIMESTAMP WITH TIME ZONE", "source_object": "VARCHAR", "source_offset": "BIGINT",
		"source_index": "BIGINT", "ingested_at": "TIMESTAMP WITH TIME ZONE",
	}
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
		if w, ok := want[c.Name]; ok && w != c.Type {
			t.Errorf("duckdb column %s is %s, want %s", c.Name, c.Type, w)
		}
	}
	typ, _ := records.Default().Lookup("shipments")
	// DuckDB adds dt from the path (hive partitioning), as Athena does.
	if want := append(silver.Columns(typ), "dt"); !slices.Equal(names, want) {
		t.Fatalf("duckdb columns %v, want %v", names, want)
	}
	b := duckdbtest.Query(t, fmt.Sprintf("SELECT count(*) - count(DISTINCT event_id) - count(*) FILTER (WHERE event_id IS NULL) AS dup FROM read_parquet('%s')", path))
	if strings.TrimSpace(string(b)) != `{"dup":"0"}` && strings.TrimSpace(string(b)) != `{"dup":0}` {
		t.Fatalf("duckdb duplicate count: %s", b)
	}
}

func TestCompactIsIdempotentAndCrashSafe(t *testing.T) {
	e := newEnv(t)
	seed(t, e.store, 10, 40, 3)
	ctx := context.Background()
	silverLoc := "s3://silver/silver/shipments/dt=2024-05-01/"

	// Crash before the switch: the catalog stays on the old files.
	if err := e.cat.UpsertTable(ctx, catalog.Table{Database: db, Name: "shipments", Location: "s3://silver/silver/shipments/"}); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.UpsertPartition(ctx, catalog.Partition{Database: db, Table: "shipments", Values: []string{testDt}, Location: silverLoc}); err != nil {
		t.Fatal(err)
	}
	broken, err := New(Deps{Store: e.store, Catalog: failingSwitch{e.cat}, Now: func() time.Time { return t0 }}, Config{TempDir: e.tmp})
	if err != nil {
		t.Fatal(err)
	}
	_, err = broken.Handle(ctx, input("run-1", 8<<10))
	if name := errName(err); name != ErrStoreUnavailable {
		t.Fatalf("failed switch: error %v (%s), want %s", err, name, ErrStoreUnavailable)
	}
	if got := location(t, e.cat); got != silverLoc {
		t.Fatalf("after a failed switch the catalog points at %q", got)
	}
	first := manifest(t, e.store, "silver_compacted/shipments/dt=2024-05-01/run-1/_manifest.json")

	// The re-run rewrites the same outputs, then switches.
	out, err := e.task(t).Handle(ctx, input("run-1", 8<<10))
	if err != nil || out.Status != StatusCompacted || out.PreviousLocation != silverLoc {
		t.Fatalf("%+v %v", out, err)
	}
	second := manifest(t, e.store, out.ManifestKey)
	if !slices.Equal(first.Outputs, second.Outputs) || len(second.Outputs) < 2 {
		t.Fatalf("re-run outputs differ:\n%+v\n%+v", first.Outputs, second.Outputs)
	}
	// After the switch the same run id is a no-op.
	again, err := e.task(t).Handle(ctx, input("run-1", 8<<10))
	if err != nil || again.Status != StatusAlreadyCurrent || again.OutputRows != out.OutputRows || again.Switched {
		t.Fatalf("%+v %v", again, err)
	}
	// A new run with nothing new does nothing.
	up, err := e.task(t).Handle(ctx, input("run-2", 8<<10))
	if err != nil || up.Status != StatusUpToDate || location(t, e.cat) != out.Location {
		t.Fatalf("%+v %v", up, err)
	}
}

func TestCompactPicksUpLateFilesAndDropsStaleParts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := seed(t, e.store, 6, 40, 2)
	out1, err := e.task(t).Handle(ctx, input("run-1", 1<<20))
	if err != nil || out1.OutputFiles != 1 {
		t.Fatalf("%+v %v", out1, err)
	}
	// A stale part left by an earlier attempt of run-2.
	stale := "silver_compacted/shipments/dt=2024-05-01/run-2/part-00007.parquet"
	if _, err := e.store.Put(ctx, bucket, stale, strings.NewReader("old attempt"), nil); err != nil {
		t.Fatal(err)
	}
	// A late file: new rows plus a copy of an already compacted event.
	typ, _ := records.Default().Lookup("shipments")
	rows := readOutputs(t, e.store, manifest(t, e.store, out1.ManifestKey))
	l := newLayout(typ)
	dupID := string(rows[0][l.eventID].ByteArray())
	lines := []string{
		`{"record_type":"shipments","event_id":"late-1","shipment_id":"S1","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":1.5,"event_time":"2024-05-01T23:59:59Z"}`,
		`{"record_type":"shipments","event_id":"` + dupID + `","shipment_id":"S2","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":1.5,"event_time":"2024-05-01T01:00:00Z"}`,
	}
	cw := silver.NewChunkWriter(silver.Source{Bucket: "bronze", Key: "bronze/late.jsonl", ETag: "feedfeed", IngestedAt: t0.Add(time.Hour)}, silver.Options{Bucket: bucket}, nil)
	p := records.Default().NewParser()
	for i, line := range lines {
		var rec records.Record
		if err := p.Parse([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if err := cw.Add(&rec, silver.Position{Offset: int64(i), Index: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cw.Commit(ctx, e.store); err != nil {
		t.Fatal(err)
	}
	out2, err := e.task(t).Handle(ctx, input("run-2", 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	// Inputs: run-1's part + the late file (silver files run-1 covered are not read again).
	if out2.Status != StatusCompacted || out2.InputFiles != 2 || out2.OutputRows != s.distinct+1 || out2.DuplicatesRemoved != 1 || out2.PreviousLocation != out1.Location {
		t.Fatalf("%+v (first run %+v)", out2, out1)
	}
	if _, err := e.store.Head(ctx, bucket, stale); !fault.Is(err, fault.NotFound) {
		t.Fatalf("stale part of an earlier attempt still there: %v", err)
	}
	m2 := manifest(t, e.store, out2.ManifestKey)
	if m2.Inputs[0].Key != "silver/shipments/dt=2024-05-01/part-feedfeed-c00000.parquet" && m2.Inputs[1].Key != "silver/shipments/dt=2024-05-01/part-feedfeed-c00000.parquet" {
		t.Fatalf("late file not an input: %+v", m2.Inputs)
	}
	// The kept copy of the duplicated event is the earlier one.
	for _, r := range readOutputs(t, e.store, m2) {
		if string(r[l.eventID].ByteArray()) == dupID && string(r[l.object].ByteArray()) == "s3://bronze/bronze/late.jsonl" {
			t.Fatal("the late copy replaced the first-ingested one")
		}
	}
}

func TestCompactVerifyFailureLeavesCatalog(t *testing.T) {
	e := newEnv(t)
	seed(t, e.store, 4, 30, 1)
	tk, err := New(Deps{Store: corruptOutputs{e.store}, Catalog: e.cat, Now: func() time.Time { return t0 }}, Config{TempDir: e.tmp})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tk.Handle(context.Background(), input("run-1", 0))
	if errName(err) != ErrVerifyFailed {
		t.Fatalf("error %v, want %s", err, ErrVerifyFailed)
	}
	if got := location(t, e.cat); got != "" {
		t.Fatalf("catalog switched to %q after a failed verification", got)
	}
	if _, err := e.store.Head(context.Background(), bucket, "silver_compacted/shipments/dt=2024-05-01/run-1/_manifest.json"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("manifest written for unverified outputs: %v", err)
	}
}

func TestCompactEmptyAndInvalid(t *testing.T) {
	e := newEnv(t)
	out, err := e.task(t).Handle(context.Background(), input("run-1", 0))
	if err != nil || out.Status != StatusEmpty || out.Switched {
		t.Fatalf("%+v %v", out, err)
	}
	tests := []struct {
		name string
		in   Input
	}{
		{"no bucket", Input{RecordType: "shipments", Dt: testDt, RunID: "r"}},
		{"unknown type", Input{SilverBucket: bucket, RecordType: "nope", Dt: testDt, RunID: "r"}},
		{"bad dt", Input{SilverBucket: bucket, RecordType: "shipments", Dt: "2024-02-30", RunID: "r"}},
		{"run id with slash", Input{SilverBucket: bucket, RecordType: "shipments", Dt: testDt, RunID: "a/b"}},
		{"run id dots", Input{SilverBucket: bucket, RecordType: "shipments", Dt: testDt, RunID: ".."}},
		{"negative target", Input{SilverBucket: bucket, RecordType: "shipments", Dt: testDt, RunID: "r", TargetFileBytes: -1}},
		{"target above 5 GiB", Input{SilverBucket: bucket, RecordType: "shipments", Dt: testDt, RunID: "r", TargetFileBytes: 5<<30 + 1}},
		{"output inside silver", Input{SilverBucket: bucket, RecordType: "shipments", Dt: testDt, RunID: "r", OutputPrefix: "silver/compacted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.task(t).Handle(context.Background(), tt.in); errName(err) != ErrInvalidInput {
				t.Fatalf("error %v, want %s", err, ErrInvalidInput)
			}
		})
	}
}

func TestCorruptInput(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.Put(context.Background(), bucket, "silver/shipments/dt=2024-05-01/part-x.parquet", strings.NewReader("not parquet"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.task(t).Handle(context.Background(), input("run-1", 0)); errName(err) != ErrCorruptInput {
		t.Fatalf("error %v, want %s", err, ErrCorruptInput)
	}
}

func errName(err error) string {
	var n interface{ ErrorName() string }
	if errors.As(err, &n) {
		return n.ErrorName()
	}
	return ""
}

// failingSwitch fails the partition switch (a crash or outage at the worst time).
type failingSwitch struct{ catalog.Catalog }

func (failingSwitch) UpsertPartition(context.Context, catalog.Partition) error {
	return fault.New(fault.Transient, "catalog.UpsertPartition", errors.New("connection reset"))
}

// corruptOutputs flips a byte of every compacted Parquet file read back.
type corruptOutputs struct{ objstore.Store }

func (c corruptOutputs) Get(ctx context.Context, b, key string, o *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	rc, info, err := c.Store.Get(ctx, b, key, o)
	if err != nil || !strings.HasPrefix(key, "silver_compacted/") || !strings.HasSuffix(key, ".parquet") {
		return rc, info, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, info, err
	}
	data[len(data)/2] ^= 0xff
	return io.NopCloser(bytes.NewReader(data)), info, nil
}

// rewriteOnGet replaces an input just before compaction reads it (a
// transform rewriting the key mid-run).
type rewriteOnGet struct {
	objstore.Store
	key  string
	done bool
}

func (r *rewriteOnGet) Get(ctx context.Context, b, key string, o *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	if key == r.key && !r.done {
		r.done = true
		if _, err := r.Store.Put(ctx, b, key, strings.NewReader("rewritten"), nil); err != nil {
			return nil, objstore.ObjectInfo{}, err
		}
	}
	return r.Store.Get(ctx, b, key, o)
}

// Inputs are read at the ETag they were listed with: a file rewritten
// mid-run fails the run (Compact.InputChanged) before anything is switched.
func TestCompactInputChangedMidRun(t *testing.T) {
	e := newEnv(t)
	s := seed(t, e.store, 4, 20, 1)
	st := &rewriteOnGet{Store: e.store, key: s.keys[1]}
	tk, err := New(Deps{Store: st, Catalog: e.cat}, Config{TempDir: e.tmp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Handle(context.Background(), input("run-1", 0)); errName(err) != ErrInputChanged {
		t.Fatalf("error %v, want %s", err, ErrInputChanged)
	}
	if location(t, e.cat) != "" {
		t.Fatal("catalog switched after an input changed")
	}
}
