package quality_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

// noUnique is the built-in shipments suite minus its unique expectations:
// with it the gate's memory must not grow with the row count.
func noUnique(b *testing.B) string {
	raw, err := quality.BuiltinSuiteText("shipments")
	if err != nil {
		b.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(raw, "\n") {
		if !strings.Contains(line, "expect_column_values_to_be_unique") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// BenchmarkHandle validates a shipments partition of 100,000 or 400,000
// rows (files of 50,000) with the built-in suite, and with the suite minus
// its two unique expectations (the only ones whose memory grows with the
// data): go test ./tasks/quality -run XXX -bench Handle -benchtime 2x
// It reports rows/s and the peak Go heap in use while validating.
func BenchmarkHandle(b *testing.B) {
	for _, rows := range []int{100_000, 400_000} {
		for _, suite := range []string{"builtin", "no-unique"} {
			b.Run(fmt.Sprintf("rows=%d/suite=%s", rows, suite), func(b *testing.B) {
				st, err := fsstore.New(b.TempDir(), fsstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
				const perFile = 50_000
				for k := 0; k < rows/perFile; k++ {
					data, _ := qualitytest.Generate(b, uint64(100+k), "shipments", day, perFile, fake.Options{ViolationRate: 0.001})
					qualitytest.Land(b, st, fmt.Sprintf("bronze/bench-%03d.jsonl", k), data)
				}
				if suite == "no-unique" {
					if _, err := st.Put(context.Background(), "silver", "ge/suites/shipments.json", strings.NewReader(noUnique(b)), nil); err != nil {
						b.Fatal(err)
					}
				}
				task := newTask(b, st, nil)
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				var peak uint64
				stop, done := make(chan struct{}), make(chan struct{})
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
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "peak-heap-MiB")
			})
		}
	}
}
