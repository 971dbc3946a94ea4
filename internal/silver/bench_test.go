package silver

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/records"
)

// BenchmarkWrite: parsed records into Parquet (one chunk, temp files, no
// store), the writing half of the hot loop.
func BenchmarkWrite(b *testing.B) {
	const n = 100_000
	p := records.Default().NewParser()
	recs := make([]records.Record, n)
	for i := range recs {
		line := fmt.Sprintf(`{"record_type":"shipments","event_id":"evt-%08d","shipment_id":"SHP-%08d","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":%d.25,"event_time":"2024-05-0%dT10:00:00Z"}`, i, i, i%90, 1+i%7)
		if err := p.Parse([]byte(line), &recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		cw := NewChunkWriter(Source{Bucket: "b", Key: "k", ETag: "e"}, Options{Bucket: "x", TempDir: dir, ExpectedRecords: n}, nil)
		for i := range recs {
			if err := cw.Add(&recs[i], Position{Offset: int64(i), Index: -1}); err != nil {
				b.Fatal(err)
			}
		}
		for _, part := range cw.parts {
			if err := part.rw.close(); err != nil {
				b.Fatal(err)
			}
		}
		cw.Abort()
	}
	// CPU time (user+sys, all threads) is steadier than wall time on a
	// shared machine.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/record")
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
