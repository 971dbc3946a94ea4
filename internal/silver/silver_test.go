package silver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/serverless-elt/elt/internal/duckdbtest"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records"
)

var samples = map[string][]string{
	"shipments": {
		`{"record_type":"shipments","event_id":"s1","shipment_id":"S1","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":12.5,"event_time":"2024-05-01T10:00:00.123456Z"}`,
		`{"record_type":"shipments","shipment_id":"S2","origin":"Lyon","destination":"Rome","carrier":"UPS","weight_kg":1,"event_time":"2024-05-02T00:30:00+02:00"}`,
	},
	"tracking_events": {
		`{"record_type":"tracking_events","event_id":"t1","shipment_id":"S1","status":"picked_up","city":"Lyon","event_time":"2024-05-01T11:00:00Z"}`,
	},
	"invoice_lines": {
		`{"record_type":"invoice_lines","event_id":"i1","invoice_id":"I1","sku":"A-1","quantity":3,"unit_price":2.5,"line_total":7.5,"event_time":"2024-05-01T12:00:00Z"}`,
		`{"record_type":"invoice_lines","event_id":"i1","invoice_id":"I1","sku":"A-1","quantity":3,"unit_price":2.5,"line_total":7.5,"event_time":"2024-05-01T12:00:00Z"}`,
	},
}

func writeSamples(t *testing.T, st *fsstore.Store, src Source) []Written {
	t.Helper()
	p := records.Default().NewParser()
	cw := NewChunkWriter(src, Options{Bucket: "lake", TempDir: t.TempDir()}, nil)
	off := int64(0)
	for _, typ := range []string{"invoice_lines", "shipments", "tracking_events"} {
		for _, line := range samples[typ] {
			var rec records.Record
			if err := p.Parse([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			if err := cw.Add(&rec, Position{Offset: off, Line: 1, Index: -1}); err != nil {
				t.Fatal(err)
			}
			off += int64(len(line) + 1)
		}
	}
	bad := `{"record_type":"invoice_lines","quantity":"3"}`
	if err := cw.Quarantine(Bad{Reason: records.WrongType, Field: "quantity", Detail: "want integer", RecordType: "invoice_lines", Dt: "2024-05-01", Raw: []byte(bad)}, Position{Offset: off, Line: 9, Index: -1}); err != nil {
		t.Fatal(err)
	}
	if err := cw.Quarantine(Bad{Reason: records.MalformedJSON, Detail: "x", Raw: []byte("{")}, Position{Offset: 1, Index: 4}); err != nil {
		t.Fatal(err)
	}
	s := cw.Stats()
	if s.Records != 5 || s.Rows != 4 || s.Duplicates != 1 || s.Quarantined != 2 {
		t.Fatalf("stats %+v", s)
	}
	ws, err := cw.Commit(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func newStore(t *testing.T) *fsstore.Store {
	st, err := fsstore.New(t.TempDir(), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket("lake"); err != nil {
		t.Fatal(err)
	}
	return st
}

var src = Source{Bucket: "raw", Key: "bronze/a.jsonl", ETag: "0123abcd", Chunk: 2, IngestedAt: time.Date(2024, 5, 3, 1, 2, 3, 0, time.UTC)}

func TestCommitLayoutAndContent(t *testing.T) {
	st := newStore(t)
	ws := writeSamples(t, st, src)
	var got []string
	for _, w := range ws {
		got = append(got, fmt.Sprintf("%s %s %d", w.Kind, w.Key, w.Rows))
	}
	want := []string{
		"silver silver/invoice_lines/dt=2024-05-01/part-0123abcd-c00002.parquet 1",
		"silver silver/shipments/dt=2024-05-01/part-0123abcd-c00002.parquet 2",
		"silver silver/tracking_events/dt=2024-05-01/part-0123abcd-c00002.parquet 1",
		"quarantine quarantine/_unknown/dt=_unknown/part-0123abcd-c00002.jsonl 1",
		"quarantine quarantine/invoice_lines/dt=2024-05-01/part-0123abcd-c00002.jsonl 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
	// Parquet content read back with the library: columns in order, values.
	pf := openParquet(t, st, want[1][len("silver "):strings.LastIndex(want[1], " ")])
	var cols []string
	for _, c := range pf.Schema().Fields() {
		cols = append(cols, c.Name())
	}
	typ, _ := records.Default().Lookup("shipments")
	if strings.Join(cols, ",") != strings.Join(Columns(typ), ",") {
		t.Fatalf("columns %v", cols)
	}
	// Low-cardinality fields (parquet:"dict") and the lineage constants are
	// dictionary-encoded; ids are not.
	for i, c := range pf.Metadata().RowGroups[0].Columns {
		dict := false
		for _, e := range c.MetaData.Encoding {
			dict = dict || e == format.RLEDictionary
		}
		want := map[string]bool{"origin": true, "destination": true, "carrier": true, ColSourceObject: true, ColSourceETag: true}[cols[i]]
		if dict != want {
			t.Errorf("column %s: dictionary %v, want %v (%v)", cols[i], dict, want, c.MetaData.Encoding)
		}
	}
	rows := make([]parquet.Row, 4)
	n, _ := pf.RowGroups()[0].Rows().ReadRows(rows)
	if n != 2 {
		t.Fatalf("rows %d", n)
	}
	r := rows[0]
	if !r[0].IsNull() && string(r[0].ByteArray()) != "s1" {
		t.Fatalf("event_id %v", r[0])
	}
	if got := r[6].Int64(); got != time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC).UnixMicro() {
		t.Fatalf("event_time %d", got)
	}
	if string(r[7].ByteArray()) != "s3://raw/bronze/a.jsonl" || string(r[8].ByteArray()) != "0123abcd" || !r[10].IsNull() || r[11].Int64() != src.IngestedAt.UnixMicro() {
		t.Fatalf("lineage %v", r[7:])
	}
	if !rows[1][0].IsNull() {
		t.Fatalf("absent event_id not null: %v", rows[1][0])
	}
	// Quarantine entries carry reason, raw text and location.
	qp, _ := st.Path("lake", "quarantine/_unknown/dt=_unknown/part-0123abcd-c00002.jsonl")
	qb, err := os.ReadFile(qp)
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(qb, &e); err != nil {
		t.Fatal(err)
	}
	s := e["source"].(map[string]any)
	if e["reason"] != "malformed_json" || e["raw"] != "{" || s["key"] != "bronze/a.jsonl" || s["etag"] != "0123abcd" || s["index"] != 4.0 || s["chunk"] != 2.0 {
		t.Fatalf("quarantine entry %s", qb)
	}
}

// Replaying the same content under another key rewrites the same files.
func TestReplayOverwrites(t *testing.T) {
	st := newStore(t)
	a := writeSamples(t, st, src)
	copySrc := src
	copySrc.Key = "bronze/replay/a-copy.jsonl"
	b := writeSamples(t, st, copySrc)
	if len(a) != len(b) {
		t.Fatal("different outputs")
	}
	for i := range a {
		if a[i].Key != b[i].Key {
			t.Fatalf("%s != %s", a[i].Key, b[i].Key)
		}
	}
	page, err := st.List(context.Background(), "lake", objstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(page.Objects)
	if n != len(a) {
		t.Fatalf("%d files after replay, want %d", n, len(a))
	}
}

// Every record type's file reads back in DuckDB with the declared types and
// the right row count.
func TestDuckDBReadsSilver(t *testing.T) {
	duckdbtest.Runner(t) // skip before the work when node is missing
	st := newStore(t)
	ws := writeSamples(t, st, src)
	want := map[string]map[string]string{
		"shipments":       {"shipment_id": "VARCHAR", "weight_kg": "DOUBLE"},
		"tracking_events": {"status": "VARCHAR", "city": "VARCHAR"},
		"invoice_lines":   {"quantity": "BIGINT", "unit_price": "DOUBLE", "line_total": "DOUBLE"},
	}
	common := map[string]string{"event_id": "VARCHAR", "event_time": "TIMESTAMP WITH TIME ZONE", "source_object": "VARCHAR",
		"source_etag": "VARCHAR", "source_offset": "BIGINT", "source_index": "BIGINT", "ingested_at": "TIMESTAMP WITH TIME ZONE", "dt": "DATE"}
	for _, w := range ws {
		if w.Kind != "silver" {
			continue
		}
		root, _ := st.Path("lake", "silver")
		glob := filepath.Join(root, w.RecordType, "*", "*.parquet")
		got := duckdbtest.Inspect(t, glob)
		if got.Rows != w.Rows || got.Files != 1 {
			t.Errorf("%s: rows %d files %d, want %d 1", w.RecordType, got.Rows, got.Files, w.Rows)
		}
		types := map[string]string{}
		for _, c := range got.Columns {
			types[c.Name] = c.Type
		}
		for n, ty := range want[w.RecordType] {
			if types[n] != ty {
				t.Errorf("%s.%s: %s, want %s", w.RecordType, n, types[n], ty)
			}
		}
		for n, ty := range common {
			if types[n] != ty {
				t.Errorf("%s.%s: %s, want %s (all: %v)", w.RecordType, n, types[n], ty, types)
			}
		}
	}
}

// A partition larger than a row group is split into several row groups and
// every row is kept.
func TestManyRowGroups(t *testing.T) {
	st := newStore(t)
	p := records.Default().NewParser()
	cw := NewChunkWriter(src, Options{Bucket: "lake", TempDir: t.TempDir()}, nil)
	const n = rowGroupRows + 1000
	var rec records.Record
	for i := 0; i < n; i++ {
		line := fmt.Sprintf(`{"record_type":"tracking_events","event_id":"e%d","shipment_id":"S","status":"x","city":"y","event_time":"2024-05-01T10:00:00Z"}`, i)
		if err := p.Parse([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if err := cw.Add(&rec, Position{Offset: int64(i), Index: -1}); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := cw.Commit(context.Background(), st)
	if err != nil || len(ws) != 1 || ws[0].Rows != n {
		t.Fatalf("%+v %v", ws, err)
	}
	pf := openParquet(t, st, ws[0].Key)
	if pf.NumRows() != n || len(pf.RowGroups()) < 2 {
		t.Fatalf("rows %d in %d row groups", pf.NumRows(), len(pf.RowGroups()))
	}
	rows := make([]parquet.Row, 1)
	last := pf.RowGroups()[len(pf.RowGroups())-1].Rows()
	defer last.Close()
	last.SeekToRow(lastIndex(pf))
	if _, err := last.ReadRows(rows); err != nil && err.Error() != "EOF" {
		t.Fatal(err)
	}
	if got := rows[0][0].String(); got != fmt.Sprintf("e%d", n-1) {
		t.Fatalf("last row event_id %q", got)
	}
}

func lastIndex(pf *parquet.File) int64 {
	rgs := pf.RowGroups()
	return rgs[len(rgs)-1].NumRows() - 1
}

// openParquet opens the Parquet file at key in the "lake" bucket of st (a
// file store); it is closed when the test ends.
func openParquet(t *testing.T, st interface {
	Path(bucket, key string) (string, error)
}, key string) *parquet.File {
	t.Helper()
	path, err := st.Path("lake", key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return pf
}
