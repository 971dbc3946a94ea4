package crawl

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records"
)

const bucket = "silver"

func col(name, typ string) catalog.Column { return catalog.Column{Name: name, Type: typ} }

func errName(err error) string {
	var n interface{ ErrorName() string }
	if errors.As(err, &n) {
		return n.ErrorName()
	}
	return ""
}

// tree is a silver bucket with data and every non-data prefix.
var tree = []string{
	"silver/shipments/dt=2024-05-01/part-a-c00000.parquet",
	"silver/shipments/dt=2024-05-01/part-b-c00000.parquet",
	"silver/shipments/dt=2024-05-02/part-a-c00000.parquet",
	"silver/shipments/dt=2024-05-03/part-a-c00000.parquet",
	"silver/shipments/dt=2024-05-04/readme.txt", // no Parquet: no partition
	"silver/shipments/dt=notadate/part-a.parquet",
	"silver/shipments/loose.parquet",
	"silver/invoice_lines/dt=2024-05-01/part-a-c00000.parquet",
	"silver/unregistered/dt=2024-05-01/part-a-c00000.parquet",
	"quarantine/shipments/dt=2024-05-01/part-a-c00000.jsonl",
	"quarantine/shipments/dt=2024-05-01/part-x.parquet",
	"_receipts/shipments/dt=2024-05-01/a.json",
	"ge/results/shipments/dt=2024-05-01/run.json",
	"ge/quarantine/shipments/dt=2024-05-01/marker.json",
	"ops/replay/exec-1/list.json",
	"silver_compacted/shipments/dt=2024-05-02/run-1/part-00000.parquet",
	"silver_compacted/shipments/dt=2024-05-02/run-1/_manifest.json",
}

func setup(t *testing.T, keys []string) (*Task, *localcatalog.Catalog) {
	t.Helper()
	st, err := fsstore.New(filepath.Join(t.TempDir(), "store"), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := st.Put(context.Background(), bucket, k, strings.NewReader("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := localcatalog.New(filepath.Join(t.TempDir(), "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := New(Deps{Store: st, Catalog: cat}, Config{Database: "lake"})
	if err != nil {
		t.Fatal(err)
	}
	return tk, cat
}

func TestCrawlSilverTree(t *testing.T) {
	ctx := context.Background()
	tk, cat := setup(t, tree)
	compacted := "s3://silver/silver_compacted/shipments/dt=2024-05-02/run-1/"
	elsewhere := "s3://silver/old-layout/shipments/dt=2024-05-03/"

	// First crawl: two tables (no empty tracking_events table), four partitions.
	out, err := tk.Handle(ctx, Input{SilverBucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	if out.TablesAdded != 2 || out.PartitionsAdded != 4 || out.PartitionsUpdated+out.PartitionsKept+out.TablesUpdated != 0 {
		t.Fatalf("first crawl %+v", out)
	}
	tables, err := cat.ListTables(ctx, "lake")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	if !slices.Equal(names, []string{"invoice_lines", "shipments"}) {
		t.Fatalf("tables %v: only registered types with data, never quarantine/_receipts/ge/ops/silver_compacted", names)
	}
	ship, _ := cat.GetTable(ctx, "lake", "shipments")
	want := []catalog.Column{
		col("event_id", "string"), col("shipment_id", "string"), col("origin", "string"), col("destination", "string"),
		col("carrier", "string"), col("weight_kg", "double"), col("event_time", "timestamp"), col("source_object", "string"),
		col("source_etag", "string"), col("source_offset", "bigint"), col("source_index", "bigint"), col("ingested_at", "timestamp"),
	}
	if ship.Location != "s3://silver/silver/shipments/" || !slices.Equal(ship.Columns, want) || !slices.Equal(ship.PartitionKeys, []catalog.Column{col("dt", "string")}) {
		t.Fatalf("shipments table %+v", ship)
	}
	inv, _ := cat.GetTable(ctx, "lake", "invoice_lines")
	if i := slices.IndexFunc(inv.Columns, func(c catalog.Column) bool { return c.Name == "quantity" }); i < 0 || inv.Columns[i].Type != "bigint" {
		t.Fatalf("invoice_lines columns %+v", inv.Columns)
	}
	ps, _ := cat.ListPartitions(ctx, "lake", "shipments")
	var dts []string
	for _, p := range ps {
		dts = append(dts, p.Values[0])
		if p.Location != "s3://silver/silver/shipments/dt="+p.Values[0]+"/" {
			t.Fatalf("partition %+v", p)
		}
	}
	if !slices.Equal(dts, []string{"2024-05-01", "2024-05-02", "2024-05-03"}) {
		t.Fatalf("shipments partitions %v", dts)
	}

	// Compaction switched dt=2024-05-02; an operator moved dt=2024-05-03.
	for dt, loc := range map[string]string{"2024-05-02": compacted, "2024-05-03": elsewhere} {
		if err := cat.UpsertPartition(ctx, catalog.Partition{Database: "lake", Table: "shipments", Values: []string{dt}, Location: loc}); err != nil {
			t.Fatal(err)
		}
	}
	out, err = tk.Handle(ctx, Input{SilverBucket: bucket, SilverPrefix: "/silver"})
	if err != nil {
		t.Fatal(err)
	}
	if out.TablesUnchanged != 2 || out.PartitionsKept != 1 || out.PartitionsUpdated != 1 || out.PartitionsUnchanged != 2 || out.PartitionsAdded != 0 {
		t.Fatalf("second crawl %+v", out)
	}
	// Its manifest (here unreadable) does not cover the silver file: stale.
	if len(out.Stale) != 1 || out.Stale[0] != (StalePartition{RecordType: "shipments", Dt: "2024-05-02", Location: compacted, NewFiles: 1}) {
		t.Fatalf("stale partitions %+v", out.Stale)
	}
	p, _ := cat.GetPartition(ctx, "lake", "shipments", []string{"2024-05-02"})
	if p.Location != compacted {
		t.Fatalf("compacted partition moved back to %s", p.Location)
	}
	p, _ = cat.GetPartition(ctx, "lake", "shipments", []string{"2024-05-03"})
	if p.Location != "s3://silver/silver/shipments/dt=2024-05-03/" {
		t.Fatalf("partition at an unknown location not refreshed: %s", p.Location)
	}

	// A changed table definition (an old column list) is updated.
	ship.Columns = ship.Columns[:3]
	if err := cat.UpsertTable(ctx, ship); err != nil {
		t.Fatal(err)
	}
	// A manifest that lists the silver file with its ETag: not stale.
	info, err := tk.deps.Store.Head(ctx, bucket, "silver/shipments/dt=2024-05-02/part-a-c00000.parquet")
	if err != nil {
		t.Fatal(err)
	}
	m := `{"version":1,"inputs":[{"key":"` + info.Key + `","etag":"` + info.ETag + `"}]}`
	if _, err := tk.deps.Store.Put(ctx, bucket, "silver_compacted/shipments/dt=2024-05-02/run-1/_manifest.json", strings.NewReader(m), nil); err != nil {
		t.Fatal(err)
	}
	out, err = tk.Handle(ctx, Input{SilverBucket: bucket, RecordTypes: []string{"shipments"}})
	if err != nil || out.TablesUpdated != 1 || len(out.Tables) != 1 || len(out.Stale) != 0 {
		t.Fatalf("third crawl %+v %v", out, err)
	}
	if ship, _ = cat.GetTable(ctx, "lake", "shipments"); !slices.Equal(ship.Columns, want) {
		t.Fatalf("columns not refreshed: %+v", ship.Columns)
	}
}

// With the silver prefix at the bucket root, the non-data prefixes sit
// beside the tables: still never catalogued.
func TestCrawlBucketRoot(t *testing.T) {
	ctx := context.Background()
	var keys []string
	for _, k := range tree {
		keys = append(keys, strings.TrimPrefix(k, "silver/"))
	}
	reg := records.Default()
	tk, cat := setup(t, keys)
	tk.cfg.Registry = reg
	out, err := tk.Handle(ctx, Input{SilverBucket: bucket, SilverPrefix: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if out.TablesAdded != 2 || out.PartitionsAdded != 4 {
		t.Fatalf("%+v", out)
	}
	ship, _ := cat.GetTable(ctx, "lake", "shipments")
	if ship.Location != "s3://silver/shipments/" {
		t.Fatalf("%+v", ship)
	}
}

func TestCrawlInvalid(t *testing.T) {
	tk, _ := setup(t, nil)
	for _, in := range []Input{
		{},
		{SilverBucket: bucket, SilverPrefix: "quarantine/"},
		{SilverBucket: bucket, SilverPrefix: "silver_compacted"},
		{SilverBucket: bucket, SilverPrefix: "ge/results/"},
		{SilverBucket: bucket, RecordTypes: []string{"nope"}},
	} {
		if _, err := tk.Handle(context.Background(), in); errName(err) != ErrInvalidInput {
			t.Fatalf("%+v: error %v, want %s", in, err, ErrInvalidInput)
		}
	}
}

func TestGlueTypesAndLocations(t *testing.T) {
	tests := []struct {
		loc, bucket, prefix string
		ok                  bool
	}{
		{"s3://b/p/q/", "b", "p/q/", true},
		{"s3://b/p/q", "b", "p/q/", true},
		{"s3://b", "b", "", true},
		{"s3:///p", "", "", false},
		{"https://b/p", "", "", false},
	}
	for _, tt := range tests {
		b, p, ok := ParseLocation(tt.loc)
		if b != tt.bucket || p != tt.prefix || ok != tt.ok {
			t.Errorf("ParseLocation(%q) = %q %q %v", tt.loc, b, p, ok)
		}
	}
	for _, dt := range []string{"2024-02-29", "2023-12-31"} {
		if !ValidDt(dt) {
			t.Errorf("ValidDt(%s) false", dt)
		}
	}
	for _, dt := range []string{"2023-02-29", "2024-1-01", "20240101", "2024-05-01/"} {
		if ValidDt(dt) {
			t.Errorf("ValidDt(%s) true", dt)
		}
	}
}

// FuzzParseLocation: partition locations come from the catalog (outside
// input); whatever parses must print back to an equivalent location.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"s3://b/p/q/", "s3://b", "s3:///x", "s3://b//", "https://b/p", "s3://b/p/dt=2024-05-01/run/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		b, p, ok := ParseLocation(loc)
		if !ok {
			return
		}
		if b == "" || strings.HasPrefix(p, "/") || (p != "" && !strings.HasSuffix(p, "/")) {
			t.Fatalf("ParseLocation(%q) = %q %q", loc, b, p)
		}
		b2, p2, ok2 := ParseLocation(Location(b, p))
		if !ok2 || b2 != b || p2 != p {
			t.Fatalf("round trip of %q: %q %q %v, want %q %q", loc, b2, p2, ok2, b, p)
		}
	})
}

// A partition compacted under another output_prefix is recognised by the
// manifest beside its files and kept.
func TestCrawlKeepsPartitionWithManifest(t *testing.T) {
	ctx := context.Background()
	tk, cat := setup(t, []string{
		"silver/shipments/dt=2024-05-01/part-a-c00000.parquet",
		"custom_out/shipments/dt=2024-05-01/run-9/part-00000.parquet",
		"custom_out/shipments/dt=2024-05-01/run-9/_manifest.json",
	})
	if _, err := tk.Handle(ctx, Input{SilverBucket: bucket}); err != nil {
		t.Fatal(err)
	}
	custom := "s3://silver/custom_out/shipments/dt=2024-05-01/run-9/"
	if err := cat.UpsertPartition(ctx, catalog.Partition{Database: "lake", Table: "shipments", Values: []string{"2024-05-01"}, Location: custom}); err != nil {
		t.Fatal(err)
	}
	out, err := tk.Handle(ctx, Input{SilverBucket: bucket})
	if err != nil || out.PartitionsKept != 1 || out.PartitionsUpdated != 0 || len(out.Stale) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
	if p, _ := cat.GetPartition(ctx, "lake", "shipments", []string{"2024-05-01"}); p.Location != custom {
		t.Fatalf("moved to %s", p.Location)
	}
}
