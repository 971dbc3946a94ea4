package compact

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// oldShipment is a silver file of an earlier layout: no source_index
// column and the lineage columns in another order. Compaction converts it
// to the current schema (the missing optional column reads as null).
type oldShipment struct {
	EventID      string  `parquet:"event_id,optional"`
	ShipmentID   string  `parquet:"shipment_id"`
	Origin       string  `parquet:"origin"`
	Destination  string  `parquet:"destination"`
	Carrier      string  `parquet:"carrier"`
	WeightKg     float64 `parquet:"weight_kg"`
	EventTime    int64   `parquet:"event_time,timestamp(microsecond:utc)"`
	SourceETag   string  `parquet:"source_etag"`
	SourceObject string  `parquet:"source_object"`
	SourceOffset int64   `parquet:"source_offset"`
	IngestedAt   int64   `parquet:"ingested_at,timestamp(microsecond:utc)"`
}

func TestCompactConvertsAnOlderFileSchema(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := seed(t, e.store, 3, 20, 0)
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[oldShipment](&buf)
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixMicro()
	rows := []oldShipment{
		{EventID: "old-1", ShipmentID: "S1", Origin: "Lyon", Destination: "Oslo", Carrier: "DHL", WeightKg: 2, EventTime: ts, SourceETag: "e0", SourceObject: "s3://bronze/old.jsonl", SourceOffset: 0, IngestedAt: ts},
		{EventID: "old-2", ShipmentID: "S2", Origin: "Lyon", Destination: "Rome", Carrier: "UPS", WeightKg: 3, EventTime: ts + 1, SourceETag: "e0", SourceObject: "s3://bronze/old.jsonl", SourceOffset: 90, IngestedAt: ts},
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Put(ctx, bucket, "silver/shipments/dt=2024-05-01/part-old-c00000.parquet", &buf, nil); err != nil {
		t.Fatal(err)
	}
	out, err := e.task(t).Handle(ctx, input("run-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	if out.OutputRows != s.distinct+2 || out.InputFiles != len(s.keys)+1 {
		t.Fatalf("%+v, want %d rows from %d files", out, s.distinct+2, len(s.keys)+1)
	}
	l := newLayout(shipments(t))
	found := 0
	for _, r := range readOutputs(t, e.store, manifest(t, e.store, out.ManifestKey)) {
		if string(r[l.object].ByteArray()) != "s3://bronze/old.jsonl" {
			continue
		}
		found++
		if !r[l.index].IsNull() || string(r[l.object+1].ByteArray()) != "e0" || r[l.eventTime].Int64() < ts {
			t.Fatalf("converted row %v", r)
		}
	}
	if found != 2 {
		t.Fatalf("%d rows of the old file in the output", found)
	}
}
