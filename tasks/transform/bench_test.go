package transform

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

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
	cpu0 := cpuTime(b)
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
	// CPU time (user+sys, all threads) is steadier than wall time on a
	// shared machine.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(100_000*b.N), "cpu-ns/record")
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "records/s")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
