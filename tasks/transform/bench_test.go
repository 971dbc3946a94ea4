package transform

import (
	"bytes"
	"context"
	"testing"

	"github.com/serverless-elt/elt/internal/decode"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/internal/work"
)

func genJSONL(b *testing.B, n int) []byte {
	g, err := fake.New(1, fake.Options{Types: []string{"shipments"}})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		l, _, _ := g.Next()
		buf.Write(l)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkRun is the hot loop end to end (decode, parse, Parquet write) on
// 100k shipments, without the store.
func BenchmarkRun(b *testing.B) {
	data := genJSONL(b, 100_000)
	reg := records.Default()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	dir := b.TempDir()
	for b.Loop() {
		cw := silver.NewChunkWriter(silver.Source{Bucket: "b", Key: "k", ETag: "e"}, silver.Options{Bucket: "x", TempDir: dir}, nil)
		if err := Run(context.Background(), reg, bytes.NewReader(data), decode.Options{Format: work.JSONL}, cw); err != nil {
			b.Fatal(err)
		}
		if cw.Stats().Rows != 100_000 {
			b.Fatal(cw.Stats())
		}
		cw.Abort()
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "records/s")
}
