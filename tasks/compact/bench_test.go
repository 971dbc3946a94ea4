package compact

import (
	"context"
	"fmt"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog"
)

// BenchmarkCompactPartition compacts one partition of 50 silver files of
// 4,000 generated shipments each (100 planted duplicates per file) into
// 128 MiB files. Measure peak memory with
//
//	go test -c -o /tmp/compact.test ./tasks/compact
//	/usr/bin/time -v /tmp/compact.test -test.run '^$' -test.bench CompactPartition -test.benchtime 1x
func BenchmarkCompactPartition(b *testing.B) {
	e := newEnv(b)
	seed(b, e.store, 50, 4000, 100)
	silverLoc := catalog.Partition{Database: db, Table: "shipments", Values: []string{testDt}, Location: "s3://silver/silver/shipments/dt=2024-05-01/"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if i > 0 {
			// Point the catalog back at silver so every iteration
			// compacts the silver files, not the previous output.
			if err := e.cat.UpsertPartition(context.Background(), silverLoc); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		out, err := e.task(b).Handle(context.Background(), input(fmt.Sprintf("bench-%d", i), 0))
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(out.InputRows), "input_rows")
			b.ReportMetric(float64(out.OutputRows), "output_rows")
			b.ReportMetric(float64(out.InputFiles), "input_files")
			b.ReportMetric(float64(out.OutputFiles), "output_files")
			b.ReportMetric(float64(out.OutputBytes), "output_bytes")
		}
	}
}
