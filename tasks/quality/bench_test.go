package quality_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

// BenchmarkHandle validates a 200,000-row shipments partition (4 files)
// with the built-in suite: go test ./tasks/quality -run XXX -bench Handle -benchtime 3x
// It reports rows/s and the peak Go heap seen while validating, which
// stays flat in the row count apart from the unique sets.
func BenchmarkHandle(b *testing.B) {
	st, err := fsstore.New(b.TempDir(), fsstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const perFile, files = 50_000, 4
	for k := 0; k < files; k++ {
		data, _ := qualitytest.Generate(b, uint64(100+k), "shipments", day, perFile, fake.Options{ViolationRate: 0.001})
		qualitytest.Land(b, st, "bronze/bench-"+string(rune('a'+k))+".jsonl", data)
	}
	task := newTask(b, st, nil)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := task.Handle(context.Background(), input()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(perFile*files)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "peak-heap-MiB")
}
