package quality_test

import (
	"context"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/tasks/compact"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

// With the pipeline's catalog: a partition holding the same events twice
// (two bronze objects with the same records) fails the unique expectations;
// once compaction has deduplicated it and switched the catalog to the
// compacted files, the gate reads those and passes.
func TestGateFollowsCompaction(t *testing.T) {
	ctx := context.Background()
	st, err := fsstore.New(t.TempDir(), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := localcatalog.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	qualitytest.Land(t, st, "bronze/a.jsonl", []byte(cleanA))
	qualitytest.Land(t, st, "bronze/a-again.jsonl", []byte(cleanA+"\n")) // another ETag, the same events
	in := input()
	in.CatalogDatabase = "elt"
	out, err := newTask(t, st, cat).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Success || out.Rows != 6 || !strings.Contains(strings.Join(out.FailedExpectations, ","), "expect_column_values_to_be_unique(event_id)") {
		t.Fatalf("before compaction: %+v", out)
	}
	ct, err := compact.New(compact.Deps{Store: st, Catalog: cat}, compact.Config{Database: "elt", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	co, err := ct.Handle(ctx, compact.Input{SilverBucket: "silver", RecordType: "shipments", Dt: "2024-05-01", RunID: "c1"})
	if err != nil || co.Status != compact.StatusCompacted {
		t.Fatalf("compact: %+v %v", co, err)
	}
	in.RunName = "run-2"
	out, err = newTask(t, st, cat).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Success || out.Rows != 3 || !strings.Contains(out.Partition, "silver_compacted/") {
		t.Fatalf("after compaction: %+v", out)
	}
	if out.QuarantineLifted {
		t.Fatal("no marker was written, none can be lifted")
	}
}
