// Package qualitytest builds silver partitions for quality gate tests the
// way the pipeline does: bronze JSONL in the bronze bucket, turned into
// silver Parquet by the real transform (tasks/transform), never Parquet
// written by hand.
package qualitytest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/internal/work"
	"github.com/serverless-elt/elt/tasks/transform"
)

// Buckets the helpers use.
const (
	BronzeBucket = "bronze"
	SilverBucket = "silver"
)

// IngestedAt is the lineage time stamped on landed rows.
var IngestedAt = time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)

// Land puts data (JSON Lines) at bronze/key and transforms it into the
// silver bucket under the default layout (silver/<type>/dt=<dt>/). It
// returns how many rows reached silver.
func Land(t testing.TB, st objstore.Store, key string, data []byte) int64 {
	t.Helper()
	ctx := context.Background()
	info, err := st.Put(ctx, BronzeBucket, key, bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := transform.New(st, nil, records.Default(), func() time.Time { return IngestedAt }, nil, transform.Config{Bucket: SilverBucket, TempDir: t.TempDir(), Concurrency: 1})
	it := work.Item{Bucket: BronzeBucket, Key: key, ETag: info.ETag, Size: info.Size, Range: objstore.Range{Offset: 0, Length: -1},
		Chunk: 0, Chunks: 1, Format: work.JSONL, IngestedAt: IngestedAt}
	stats, _, err := h.Transform(ctx, it, SilverBucket)
	if err != nil {
		t.Fatal(err)
	}
	return stats.Rows
}

// Generate renders n events of one record type for one day with the fake
// generator (opts.Types, Start and Days are set here), as JSON Lines, and
// the number of planted violations among them.
func Generate(t testing.TB, seed uint64, recordType string, day time.Time, n int, opts fake.Options) ([]byte, int) {
	t.Helper()
	opts.Types = []string{recordType}
	opts.Start, opts.Days = day, 1
	g, err := fake.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		line, _, _ := g.Next()
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), g.Violations()
}
