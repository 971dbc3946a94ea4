package parquetbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/duckdbtest"
)

var testBase = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Small files with several row groups: the policy must cut them the same
// way in every library.
const (
	testRows     = 2500
	testRowGroup = 1000
)

func testConfig() Config {
	c := DefaultConfig()
	c.RowGroupRows = testRowGroup
	c.PageBytes = 64 << 10
	return c
}

// writeFile writes rows with lib's writer into dir and returns the path.
// Rows go in uneven batches so batch and row group boundaries differ.
func writeFile[T any](t *testing.T, dir, shape string, lib Library, rows []T,
	newW func(Library, *os.File, Config) (Writer[T], error)) string {
	t.Helper()
	path := filepath.Join(dir, shape+"-"+string(lib)+".parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := newW(lib, f, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(len(rows), 333)
		if err := w.Write(rows[:n]); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func shipmentFile(t *testing.T, dir string, lib Library, rows []Shipment) string {
	return writeFile(t, dir, "shipments", lib, rows, func(l Library, f *os.File, c Config) (Writer[Shipment], error) {
		return NewShipmentWriter(l, f, c)
	})
}

func invoiceFile(t *testing.T, dir string, lib Library, rows []InvoiceLine) string {
	return writeFile(t, dir, "invoice_lines", lib, rows, func(l Library, f *os.File, c Config) (Writer[InvoiceLine], error) {
		return NewInvoiceLineWriter(l, f, c)
	})
}

// --- DuckDB, the independent reader -------------------------------------

type duckColumn struct{ Name, Type string }

// columns are DuckDB's columns in this file's terms.
func columns(in duckdbtest.Inspection) []duckColumn {
	cols := make([]duckColumn, len(in.Columns))
	for i, c := range in.Columns {
		cols[i] = duckColumn(c)
	}
	return cols
}

// queryOne runs SQL that returns one row of integers.
func queryOne(t *testing.T, sql string) map[string]int64 {
	t.Helper()
	out := duckdbtest.Query(t, sql)
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var row map[string]any
	if err := dec.Decode(&row); err != nil {
		t.Fatalf("decode query result %q: %v", out, err)
	}
	res := map[string]int64{}
	for k, v := range row {
		var s string
		switch v := v.(type) {
		case json.Number:
			s = v.String()
		case string: // DuckDB's JSON renders BIGINT/HUGEINT as strings
			s = v
		default:
			t.Fatalf("column %s: unexpected %T %v", k, v, v)
		}
		var n int64
		if _, err := fmt.Sscan(s, &n); err != nil {
			t.Fatalf("column %s: %q is not an integer", k, s)
		}
		res[k] = n
	}
	return res
}

const (
	ts      = "TIMESTAMP WITH TIME ZONE" // isAdjustedToUTC=true
	varchar = "VARCHAR"
)

var wantColumns = map[string][]duckColumn{
	"shipments": {
		{"shipment_id", varchar}, {"origin", varchar}, {"destination", varchar}, {"carrier", varchar},
		{"weight_kg", "DOUBLE"}, {"event_time", ts}, {"event_id", varchar}, {"record_type", varchar},
		{"source_object", varchar}, {"source_etag", varchar}, {"source_offset", "BIGINT"}, {"ingested_at", ts},
	},
	"invoice_lines": {
		{"invoice_id", varchar}, {"sku", varchar}, {"quantity", "BIGINT"}, {"unit_price", "DOUBLE"},
		{"line_total", "DOUBLE"}, {"event_time", ts}, {"event_id", varchar}, {"record_type", varchar},
		{"source_object", varchar}, {"source_etag", varchar}, {"source_offset", "BIGINT"}, {"ingested_at", ts},
	},
}

// expectation is what DuckDB must compute from a file: aggregates that only
// come out right if values, units and NULLs survived.
type expectation struct {
	nulls, minEvent, maxEvent, sumOffset, sumQuantity int64
}

func expectFrom(n int, get func(i int) (eventID *string, eventTime, offset, quantity int64)) expectation {
	e := expectation{minEvent: 1<<63 - 1, maxEvent: -1 << 63}
	for i := range n {
		id, et, off, q := get(i)
		if id == nil {
			e.nulls++
		}
		e.minEvent, e.maxEvent = min(e.minEvent, et), max(e.maxEvent, et)
		e.sumOffset += off
		e.sumQuantity += q
	}
	return e
}

// TestDuckDBReadsEveryLibrary writes both shapes with every library and
// reads them back with DuckDB: row count, column names and types (TIMESTAMP
// WITH TIME ZONE, not BIGINT; quantity BIGINT; VARCHAR strings), NULL
// event_ids, timestamp values in microseconds, the row group count, snappy
// on every column chunk and dictionary encoding on the low-cardinality
// string columns.
func TestDuckDBReadsEveryLibrary(t *testing.T) {
	duckdbtest.Runner(t)
	ships := Shipments(1, testBase, testRows)
	invs := InvoiceLines(2, testBase, testRows)
	want := map[string]expectation{
		"shipments": expectFrom(len(ships), func(i int) (*string, int64, int64, int64) {
			return ships[i].EventID, ships[i].EventTime, ships[i].SourceOffset, 0
		}),
		"invoice_lines": expectFrom(len(invs), func(i int) (*string, int64, int64, int64) {
			return invs[i].EventID, invs[i].EventTime, invs[i].SourceOffset, invs[i].Quantity
		}),
	}
	if want["shipments"].nulls == 0 || want["invoice_lines"].nulls == 0 {
		t.Fatal("generator made no NULL event_id: the NULL check would prove nothing")
	}
	for _, lib := range Libraries {
		for _, shape := range []string{"shipments", "invoice_lines"} {
			t.Run(string(lib)+"/"+shape, func(t *testing.T) {
				dir := t.TempDir()
				var path, quantity string
				if shape == "shipments" {
					path, quantity = shipmentFile(t, dir, lib, ships), "0"
				} else {
					path, quantity = invoiceFile(t, dir, lib, invs), "sum(quantity)"
				}
				got := duckdbtest.Inspect(t, path)
				t.Logf("duckdb types: %v", got.Columns)
				if got.Rows != testRows {
					t.Errorf("rows = %d, want %d", got.Rows, testRows)
				}
				if cols := columns(got); !reflect.DeepEqual(cols, wantColumns[shape]) {
					t.Errorf("columns = %v\nwant      %v", cols, wantColumns[shape])
				}
				q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE event_id IS NULL) AS nulls,
					epoch_us(min(event_time)) AS min_event, epoch_us(max(event_time)) AS max_event,
					sum(source_offset) AS sum_offset, %s AS sum_quantity,
					(SELECT count(DISTINCT row_group_id) FROM parquet_metadata('%[2]s')) AS row_groups,
					(SELECT count(*) FROM parquet_metadata('%[2]s') WHERE compression <> 'SNAPPY') AS not_snappy,
					(SELECT count(*) FROM parquet_metadata('%[2]s')
						WHERE path_in_schema IN (%[3]s) AND encodings NOT LIKE '%%DICTIONARY%%') AS not_dict,
					(SELECT count(*) FROM parquet_metadata('%[2]s') WHERE path_in_schema IN (%[3]s)) AS dict_chunks
					FROM read_parquet('%[2]s')`, quantity, path, sqlList(dictColumns))
				r := queryOne(t, q)
				gotE := expectation{r["nulls"], r["min_event"], r["max_event"], r["sum_offset"], r["sum_quantity"]}
				if gotE != want[shape] {
					t.Errorf("duckdb aggregates = %+v, want %+v", gotE, want[shape])
				}
				if r["not_snappy"] != 0 {
					t.Errorf("%d column chunks are not snappy-compressed", r["not_snappy"])
				}
				if r["dict_chunks"] == 0 || r["not_dict"] != 0 {
					t.Errorf("%d of %d low-cardinality column chunks are not dictionary-encoded", r["not_dict"], r["dict_chunks"])
				}
				if wantRG := int64((testRows + testRowGroup - 1) / testRowGroup); r["row_groups"] != wantRG {
					t.Errorf("row groups = %d, want %d", r["row_groups"], wantRG)
				}
			})
		}
	}
}

func sqlList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ",")
}

// --- Cross-library reads ------------------------------------------------

// arrowColumns reads a file with arrow-go and returns each column as one
// array, checking the Arrow type it comes back as.
func arrowColumns(t *testing.T, path string, wantTypes map[string]arrow.DataType) (map[string]arrow.Array, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatalf("arrow-go read %s: %v", path, err)
	}
	t.Cleanup(tbl.Release)
	cols := map[string]arrow.Array{}
	for i := range int(tbl.NumCols()) {
		c := tbl.Column(i)
		if want, ok := wantTypes[c.Name()]; ok && !arrow.TypeEqual(c.DataType(), want) {
			t.Errorf("arrow-go reads %s as %s, want %s", c.Name(), c.DataType(), want)
		}
		arr, err := array.Concatenate(c.Data().Chunks(), mem)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(arr.Release)
		cols[c.Name()] = arr
	}
	return cols, int(tbl.NumRows())
}

var arrowTimeTypes = map[string]arrow.DataType{"event_time": tsUTC, "ingested_at": tsUTC, "quantity": arrow.PrimitiveTypes.Int64}

func arrowStr(a arrow.Array, i int) string  { return a.(*array.String).Value(i) }
func arrowI64(a arrow.Array, i int) int64   { return a.(*array.Int64).Value(i) }
func arrowF64(a arrow.Array, i int) float64 { return a.(*array.Float64).Value(i) }
func arrowTS(a arrow.Array, i int) int64    { return int64(a.(*array.Timestamp).Value(i)) }
func arrowOptStr(a arrow.Array, i int) *string {
	if a.IsNull(i) {
		return nil
	}
	s := arrowStr(a, i)
	return &s
}

func shipmentsViaArrow(t *testing.T, path string) []Shipment {
	c, n := arrowColumns(t, path, arrowTimeTypes)
	rows := make([]Shipment, n)
	for i := range rows {
		rows[i] = Shipment{
			ShipmentID: arrowStr(c["shipment_id"], i), Origin: arrowStr(c["origin"], i),
			Destination: arrowStr(c["destination"], i), Carrier: arrowStr(c["carrier"], i),
			WeightKg: arrowF64(c["weight_kg"], i), EventTime: arrowTS(c["event_time"], i),
			EventID: arrowOptStr(c["event_id"], i), RecordType: arrowStr(c["record_type"], i),
			SourceObject: arrowStr(c["source_object"], i), SourceETag: arrowStr(c["source_etag"], i),
			SourceOffset: arrowI64(c["source_offset"], i), IngestedAt: arrowTS(c["ingested_at"], i),
		}
	}
	return rows
}

func invoiceLinesViaArrow(t *testing.T, path string) []InvoiceLine {
	c, n := arrowColumns(t, path, arrowTimeTypes)
	rows := make([]InvoiceLine, n)
	for i := range rows {
		rows[i] = InvoiceLine{
			InvoiceID: arrowStr(c["invoice_id"], i), SKU: arrowStr(c["sku"], i),
			Quantity: arrowI64(c["quantity"], i), UnitPrice: arrowF64(c["unit_price"], i),
			LineTotal: arrowF64(c["line_total"], i), EventTime: arrowTS(c["event_time"], i),
			EventID: arrowOptStr(c["event_id"], i), RecordType: arrowStr(c["record_type"], i),
			SourceObject: arrowStr(c["source_object"], i), SourceETag: arrowStr(c["source_etag"], i),
			SourceOffset: arrowI64(c["source_offset"], i), IngestedAt: arrowTS(c["ingested_at"], i),
		}
	}
	return rows
}

func viaParquetGo[T any](t *testing.T, path string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		t.Fatalf("parquet-go read %s: %v", path, err)
	}
	return rows
}

func firstDiff[T any](got, want []T) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("row %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return ""
}

// TestCrossLibraryRead reads each library's file with a different library
// and compares every value with what was written.
func TestCrossLibraryRead(t *testing.T) {
	ships := Shipments(3, testBase, testRows)
	invs := InvoiceLines(4, testBase, testRows)
	cases := []struct {
		writer Library
		reader string
	}{
		{Xitongsys, "parquet-go"},
		{Xitongsys, "arrow-go"},
		{ParquetGo, "arrow-go"},
		{ParquetGoRows, "arrow-go"},
		{ArrowGo, "parquet-go"},
	}
	for _, tc := range cases {
		t.Run(string(tc.writer)+"->"+tc.reader, func(t *testing.T) {
			dir := t.TempDir()
			sp, ip := shipmentFile(t, dir, tc.writer, ships), invoiceFile(t, dir, tc.writer, invs)
			var gs []Shipment
			var gi []InvoiceLine
			if tc.reader == "arrow-go" {
				gs, gi = shipmentsViaArrow(t, sp), invoiceLinesViaArrow(t, ip)
			} else {
				gs, gi = viaParquetGo[Shipment](t, sp), viaParquetGo[InvoiceLine](t, ip)
			}
			if d := firstDiff(gs, ships); d != "" {
				t.Errorf("shipments: %s", d)
			}
			if d := firstDiff(gi, invs); d != "" {
				t.Errorf("invoice_lines: %s", d)
			}
		})
	}
}

func TestWriterRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		lib  Library
		cfg  Config
		want string
	}{
		{"unknown library", "fastparquet", DefaultConfig(), "unknown library"},
		{"zero row group", ParquetGo, Config{PageBytes: 1, XitongsysNP: 1}, "invalid config"},
		{"zero page", ArrowGo, Config{RowGroupRows: 1, XitongsysNP: 1}, "invalid config"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewShipmentWriter(tc.lib, &bytes.Buffer{}, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := Shipments(7, testBase, 100), Shipments(7, testBase, 100)
	if d := firstDiff(a, b); d != "" {
		t.Fatalf("same seed, different rows: %s", d)
	}
	if c := Shipments(8, testBase, 100); firstDiff(a, c) == "" {
		t.Fatal("different seeds gave the same rows")
	}
}
