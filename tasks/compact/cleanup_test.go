package compact

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
)

func (e *env) cleanup(t *testing.T) *Cleanup {
	t.Helper()
	c, err := NewCleanup(e.deps(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCleanup(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := seed(t, e.store, 8, 30, 2)
	out, err := e.task(t).Handle(ctx, input("run-1", 8<<10))
	if err != nil {
		t.Fatal(err)
	}
	in := CleanupInput{Bucket: bucket, ManifestKey: out.ManifestKey}

	// The catalog does not point at the outputs: refuse, delete nothing.
	silverLoc := "s3://silver/silver/shipments/dt=2024-05-01/"
	if err := e.cat.UpsertPartition(ctx, catalog.Partition{Database: db, Table: "shipments", Values: []string{testDt}, Location: silverLoc}); err != nil {
		t.Fatal(err)
	}
	res, err := e.cleanup(t).Handle(ctx, in)
	if err != nil || res.Status != CleanupRefused || res.Deleted != 0 || !strings.Contains(res.Reason, silverLoc) {
		t.Fatalf("%+v %v", res, err)
	}
	for _, k := range s.keys {
		if _, err := e.store.Head(ctx, bucket, k); err != nil {
			t.Fatalf("refused cleanup removed %s: %v", k, err)
		}
	}

	// Back on the outputs; one input was rewritten after the compaction
	// (new ETag) and one is already gone.
	if err := e.cat.UpsertPartition(ctx, catalog.Partition{Database: db, Table: "shipments", Values: []string{testDt}, Location: out.Location}); err != nil {
		t.Fatal(err)
	}
	changed, gone := s.keys[2], s.keys[5]
	if _, err := e.store.Put(ctx, bucket, changed, strings.NewReader("written after compaction"), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Delete(ctx, bucket, gone); err != nil {
		t.Fatal(err)
	}
	res, err = e.cleanup(t).Handle(ctx, in)
	if err != nil || res.Status != CleanupDone || res.Deleted != len(s.keys)-2 || res.AlreadyGone != 1 || !slices.Equal(res.Spared, []string{changed}) {
		t.Fatalf("%+v %v", res, err)
	}
	for _, k := range s.keys {
		_, err := e.store.Head(ctx, bucket, k)
		if k == changed && err != nil {
			t.Fatalf("cleanup removed %s, changed after compaction: %v", k, err)
		}
		if k != changed && !fault.Is(err, fault.NotFound) {
			t.Fatalf("superseded input %s still there: %v", k, err)
		}
	}
	// Outputs and manifest stay.
	for _, o := range manifest(t, e.store, out.ManifestKey).Outputs {
		if _, err := e.store.Head(ctx, bucket, o.Key); err != nil {
			t.Fatalf("output %s: %v", o.Key, err)
		}
	}
	// Cleanup is repeatable.
	res, err = e.cleanup(t).Handle(ctx, in)
	if err != nil || res.Status != CleanupDone || res.Deleted != 0 || res.AlreadyGone != len(s.keys)-1 {
		t.Fatalf("second cleanup %+v %v", res, err)
	}

	// The rewritten file is new data: the next compaction picks it up
	// (here it is not Parquet, so it fails as corrupt input and the
	// catalog stays on run-1).
	if _, err := e.task(t).Handle(ctx, input("run-2", 8<<10)); errName(err) != ErrCorruptInput {
		t.Fatalf("error %v, want %s", err, ErrCorruptInput)
	}
	if location(t, e.cat) != out.Location {
		t.Fatal("catalog moved after a failed compaction")
	}
}

func TestCleanupInvalid(t *testing.T) {
	e := newEnv(t)
	for _, in := range []CleanupInput{
		{},
		{Bucket: bucket, ManifestKey: "silver_compacted/shipments/dt=2024-05-01/run-1/other.json"},
		{Bucket: bucket, ManifestKey: "silver_compacted/shipments/dt=2024-05-01/run-1/_manifest.json"}, // missing
	} {
		if _, err := e.cleanup(t).Handle(context.Background(), in); errName(err) != ErrInvalidInput {
			t.Fatalf("%+v: error %v, want %s", in, err, ErrInvalidInput)
		}
	}
}

func TestListPartitions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, k := range []string{
		"silver/shipments/dt=2024-04-30/a.parquet",
		"silver/shipments/dt=2024-05-01/a.parquet",
		"silver/shipments/dt=2024-05-01/b.parquet",
		"silver/shipments/dt=2024-05-02/notes.txt", // no Parquet: not a partition
		"silver/shipments/dt=2024-05-03/a.parquet",
		"silver/shipments/dt=2024-05-04/a.parquet",
		"silver/shipments/dt=bad/a.parquet",
		"silver/invoice_lines/dt=2024-05-02/a.parquet",
		"quarantine/shipments/dt=2024-05-02/a.jsonl",
		"silver_compacted/shipments/dt=2024-05-02/r/part-00000.parquet",
	} {
		if _, err := e.store.Put(ctx, bucket, k, strings.NewReader("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	l, err := NewLister(e.deps(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := func(typ, dt string) PartitionRef { return PartitionRef{RecordType: typ, Dt: dt} }
	tests := []struct {
		name string
		in   ListInput
		want []PartitionRef
		err  string
	}{
		{"range one type", ListInput{SilverBucket: bucket, RecordType: "shipments", DtFrom: "2024-05-01", DtTo: "2024-05-03"},
			[]PartitionRef{p("shipments", "2024-05-01"), p("shipments", "2024-05-03")}, ""},
		{"range several types", ListInput{SilverBucket: bucket, SilverPrefix: "silver", RecordTypes: []string{"shipments", "invoice_lines"}, DtFrom: "2024-05-02", DtTo: "2024-05-02"},
			[]PartitionRef{p("invoice_lines", "2024-05-02")}, ""},
		{"empty range", ListInput{SilverBucket: bucket, RecordType: "tracking_events", DtFrom: "2024-01-01", DtTo: "2024-12-31"}, []PartitionRef{}, ""},
		{"explicit list", ListInput{SilverBucket: bucket, Partitions: []PartitionRef{p("shipments", "2024-05-09"), p("invoice_lines", "2024-05-02"), p("shipments", "2024-05-09")}},
			[]PartitionRef{p("invoice_lines", "2024-05-02"), p("shipments", "2024-05-09")}, ""},
		{"both forms", ListInput{SilverBucket: bucket, RecordType: "shipments", Partitions: []PartitionRef{p("shipments", "2024-05-09")}}, nil, ErrInvalidInput},
		{"no type", ListInput{SilverBucket: bucket, DtFrom: "2024-05-01", DtTo: "2024-05-03"}, nil, ErrInvalidInput},
		{"reversed range", ListInput{SilverBucket: bucket, RecordType: "shipments", DtFrom: "2024-05-03", DtTo: "2024-05-01"}, nil, ErrInvalidInput},
		{"unknown type", ListInput{SilverBucket: bucket, RecordType: "nope", DtFrom: "2024-05-01", DtTo: "2024-05-01"}, nil, ErrInvalidInput},
		{"bad dt in list", ListInput{SilverBucket: bucket, Partitions: []PartitionRef{p("shipments", "2024-13-01")}}, nil, ErrInvalidInput},
		{"no bucket", ListInput{RecordType: "shipments", DtFrom: "2024-05-01", DtTo: "2024-05-01"}, nil, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := l.Handle(ctx, tt.in)
			if errName(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && (!slices.Equal(out.Partitions, tt.want) || out.Count != len(tt.want)) {
				t.Fatalf("got %+v, want %+v", out, tt.want)
			}
		})
	}
}
