// Package catalogtest is the contract suite every catalog.Catalog driver
// must pass: the embedded on-disk catalog and the Glue adapter run the same
// subtests.
//
// Semantics pinned here: Upsert creates or replaces; Get of a missing table
// or partition is fault.NotFound; a partition needs its table (UpsertPartition
// and ListPartitions on a missing table are fault.NotFound); ListTables is
// sorted by name and is empty for a database without tables; ListPartitions
// is sorted by values (element-wise). Returned tables and partitions carry
// their database and table names.
package catalogtest

import (
	"context"
	"reflect"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
)

// Harness is one fresh catalog for one subtest.
type Harness struct {
	Catalog catalog.Catalog
	// Database exists (Glue needs CreateDatabase first) and has no tables.
	Database string
	// OtherDatabase, when set, is a second existing empty database.
	OtherDatabase string
}

// MakeHarness returns a fresh harness; it registers its own cleanup on t.
type MakeHarness func(t *testing.T) Harness

// Run runs the whole contract suite.
func Run(t *testing.T, newHarness MakeHarness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"TableRoundTrip", testTableRoundTrip},
		{"UpsertTableReplaces", testUpsertTableReplaces},
		{"MissingTable", testMissingTable},
		{"ListTables", testListTables},
		{"Partitions", testPartitions},
		{"PartitionNeedsTable", testPartitionNeedsTable},
		{"MultiValuePartitions", testMultiValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness(t)) })
	}
}

// Table is a silver table like the ones the pipeline registers.
func Table(db, name string) catalog.Table {
	return catalog.Table{
		Database: db,
		Name:     name,
		Location: "s3://lake/silver/" + name + "/",
		Columns: []catalog.Column{
			{Name: "shipment_id", Type: "string"},
			{Name: "weight_kg", Type: "double"},
			{Name: "event_time", Type: "timestamp"},
			{Name: "_source_position", Type: "bigint"},
		},
		PartitionKeys: []catalog.Column{{Name: "dt", Type: "string"}},
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func notFound(t *testing.T, what string, err error) {
	t.Helper()
	if !fault.Is(err, fault.NotFound) {
		t.Fatalf("%s: %v (code %s), want NotFound", what, err, fault.CodeOf(err))
	}
}

func testTableRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	want := Table(h.Database, "shipments")
	must(t, "UpsertTable", h.Catalog.UpsertTable(ctx, want))
	got, err := h.Catalog.GetTable(ctx, h.Database, "shipments")
	must(t, "GetTable", err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetTable:\n got %+v\nwant %+v", got, want)
	}
}

func testUpsertTableReplaces(t *testing.T, h Harness) {
	ctx := context.Background()
	tb := Table(h.Database, "tracking_events")
	must(t, "UpsertTable", h.Catalog.UpsertTable(ctx, tb))
	tb.Columns = append(tb.Columns, catalog.Column{Name: "city", Type: "string"})
	tb.Location = "s3://lake/silver/tracking_events/v2/"
	must(t, "UpsertTable again", h.Catalog.UpsertTable(ctx, tb))
	got, err := h.Catalog.GetTable(ctx, h.Database, "tracking_events")
	must(t, "GetTable", err)
	if !reflect.DeepEqual(got, tb) {
		t.Fatalf("after replace:\n got %+v\nwant %+v", got, tb)
	}
	list, err := h.Catalog.ListTables(ctx, h.Database)
	must(t, "ListTables", err)
	if len(list) != 1 {
		t.Fatalf("replace made %d tables", len(list))
	}
}

func testMissingTable(t *testing.T, h Harness) {
	ctx := context.Background()
	_, err := h.Catalog.GetTable(ctx, h.Database, "nope")
	notFound(t, "GetTable of a missing table", err)
	must(t, "UpsertTable", h.Catalog.UpsertTable(ctx, Table(h.Database, "shipments")))
	_, err = h.Catalog.GetTable(ctx, h.Database, "shipments_old")
	notFound(t, "GetTable of a similar name", err)
	_, err = h.Catalog.GetPartition(ctx, h.Database, "shipments", []string{"2025-01-01"})
	notFound(t, "GetPartition of a missing partition", err)
}

func testListTables(t *testing.T, h Harness) {
	ctx := context.Background()
	list, err := h.Catalog.ListTables(ctx, h.Database)
	must(t, "ListTables of an empty database", err)
	if len(list) != 0 {
		t.Fatalf("empty database lists %d tables", len(list))
	}
	for _, n := range []string{"tracking_events", "invoice_lines", "shipments"} {
		must(t, "UpsertTable "+n, h.Catalog.UpsertTable(ctx, Table(h.Database, n)))
	}
	if h.OtherDatabase != "" {
		must(t, "UpsertTable elsewhere", h.Catalog.UpsertTable(ctx, Table(h.OtherDatabase, "elsewhere")))
	}
	list, err = h.Catalog.ListTables(ctx, h.Database)
	must(t, "ListTables", err)
	var names []string
	for _, tb := range list {
		names = append(names, tb.Name)
		if tb.Database != h.Database || len(tb.Columns) != 4 {
			t.Errorf("listed table %+v", tb)
		}
	}
	if want := []string{"invoice_lines", "shipments", "tracking_events"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ListTables = %q, want %q", names, want)
	}
}

func part(db, table string, values ...string) catalog.Partition {
	loc := "s3://lake/silver/" + table + "/"
	for _, v := range values {
		loc += v + "/"
	}
	return catalog.Partition{Database: db, Table: table, Values: values, Location: loc}
}

func testPartitions(t *testing.T, h Harness) {
	ctx := context.Background()
	must(t, "UpsertTable", h.Catalog.UpsertTable(ctx, Table(h.Database, "shipments")))
	list, err := h.Catalog.ListPartitions(ctx, h.Database, "shipments")
	must(t, "ListPartitions of a new table", err)
	if len(list) != 0 {
		t.Fatalf("new table has %d partitions", len(list))
	}
	for _, dt := range []string{"dt=2025-01-02", "dt=2024-12-31", "dt=2025-01-01"} {
		must(t, "UpsertPartition "+dt, h.Catalog.UpsertPartition(ctx, part(h.Database, "shipments", dt)))
	}
	// Odd values survive as they are.
	odd := part(h.Database, "shipments", "a/b=c d%e 日本")
	must(t, "UpsertPartition odd", h.Catalog.UpsertPartition(ctx, odd))
	got, err := h.Catalog.GetPartition(ctx, h.Database, "shipments", odd.Values)
	must(t, "GetPartition odd", err)
	if !reflect.DeepEqual(got, odd) {
		t.Fatalf("odd partition:\n got %+v\nwant %+v", got, odd)
	}
	// Upsert replaces the location (compaction switches partitions this way).
	moved := part(h.Database, "shipments", "dt=2025-01-01")
	moved.Location = "s3://lake/silver/shipments/dt=2025-01-01/compacted-0001/"
	must(t, "UpsertPartition replace", h.Catalog.UpsertPartition(ctx, moved))
	got, err = h.Catalog.GetPartition(ctx, h.Database, "shipments", []string{"dt=2025-01-01"})
	must(t, "GetPartition", err)
	if got.Location != moved.Location {
		t.Fatalf("location after replace %q", got.Location)
	}
	list, err = h.Catalog.ListPartitions(ctx, h.Database, "shipments")
	must(t, "ListPartitions", err)
	var vals []string
	for _, p := range list {
		vals = append(vals, p.Values[0])
		if p.Database != h.Database || p.Table != "shipments" {
			t.Errorf("listed partition %+v", p)
		}
	}
	if want := []string{"a/b=c d%e 日本", "dt=2024-12-31", "dt=2025-01-01", "dt=2025-01-02"}; !reflect.DeepEqual(vals, want) {
		t.Fatalf("ListPartitions = %q, want %q", vals, want)
	}
}

func testPartitionNeedsTable(t *testing.T, h Harness) {
	ctx := context.Background()
	notFound(t, "UpsertPartition without a table", h.Catalog.UpsertPartition(ctx, part(h.Database, "ghost", "2025-01-01")))
	_, err := h.Catalog.ListPartitions(ctx, h.Database, "ghost")
	notFound(t, "ListPartitions without a table", err)
	_, err = h.Catalog.GetPartition(ctx, h.Database, "ghost", []string{"2025-01-01"})
	notFound(t, "GetPartition without a table", err)
}

func testMultiValue(t *testing.T, h Harness) {
	ctx := context.Background()
	tb := Table(h.Database, "invoice_lines")
	tb.PartitionKeys = []catalog.Column{{Name: "dt", Type: "string"}, {Name: "region", Type: "string"}}
	must(t, "UpsertTable", h.Catalog.UpsertTable(ctx, tb))
	in := [][]string{{"2025-01-01", "us"}, {"2025-01-01", "eu"}, {"2024-12-31", "us"}}
	for _, v := range in {
		must(t, "UpsertPartition", h.Catalog.UpsertPartition(ctx, part(h.Database, "invoice_lines", v...)))
	}
	list, err := h.Catalog.ListPartitions(ctx, h.Database, "invoice_lines")
	must(t, "ListPartitions", err)
	var got [][]string
	for _, p := range list {
		got = append(got, p.Values)
	}
	want := [][]string{{"2024-12-31", "us"}, {"2025-01-01", "eu"}, {"2025-01-01", "us"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListPartitions = %q, want %q", got, want)
	}
	_, err = h.Catalog.GetPartition(ctx, h.Database, "invoice_lines", []string{"2025-01-01"})
	if c := fault.CodeOf(err); c != fault.NotFound && c != fault.InvalidArgument {
		t.Fatalf("GetPartition with too few values: %v, want NotFound or InvalidArgument", err)
	}
}
