//go:build unix

package parquetbench

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
)

// countingWriter discards the file and counts its bytes, so the figures
// are the library's work, not the disk's.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// writeBatch is how many rows each Write call gets, as a transform
// writing a decoded chunk would.
const writeBatch = 1024

func writeAll[T any](w Writer[T], rows []T) error {
	for len(rows) > 0 {
		n := min(len(rows), writeBatch)
		if err := w.Write(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return w.Close()
}

func benchWrite[T any](b *testing.B, rows []T, lib Library, cfg Config,
	newW func(Library, *countingWriter, Config) (Writer[T], error)) {
	// One small untimed write first, so the first variant measured in a
	// process does not pay the warm-up (page faults, heap growth) alone.
	warm, err := newW(lib, &countingWriter{}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeAll(warm, rows[:min(len(rows), 20_000)]); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var size int64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime(b)
	b.ReportAllocs()
	for b.Loop() {
		out := &countingWriter{}
		w, err := newW(lib, out, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := writeAll(w, rows); err != nil {
			b.Fatal(err)
		}
		size = out.n
	}
	cpu1 := cpuTime(b)
	runtime.ReadMemStats(&ms1)
	perRow := float64(b.N) * float64(len(rows))
	b.SetBytes(size) // MB/s is output bytes
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perRow, "ns/row")
	b.ReportMetric(float64(cpu1-cpu0)/perRow, "cpu-ns/row")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/perRow, "allocs/row")
	b.ReportMetric(float64(size), "file-bytes")
}

var benchSizes = []int{100_000, 1_000_000}

// BenchmarkWrite writes 100k and 1M rows of each shape with each library
// (plus xitongsys with np=2, its parallel marshalling, on this 2-core box).
// Run: go test -bench . -benchmem -benchtime=1x -run '^$' ./internal/parquetbench/
func BenchmarkWrite(b *testing.B) {
	type variant struct {
		name string
		lib  Library
		cfg  Config
	}
	np2 := DefaultConfig()
	np2.XitongsysNP = 2
	var variants []variant
	for _, lib := range Libraries {
		variants = append(variants, variant{string(lib), lib, DefaultConfig()})
		if lib == Xitongsys {
			variants = append(variants, variant{"xitongsys-np2", lib, np2})
		}
	}
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("shipments/rows=%d", n), func(b *testing.B) {
			rows := Shipments(1, testBase, n)
			for _, v := range variants {
				b.Run(v.name, func(b *testing.B) {
					benchWrite(b, rows, v.lib, v.cfg, func(l Library, w *countingWriter, c Config) (Writer[Shipment], error) {
						return NewShipmentWriter(l, w, c)
					})
				})
			}
		})
		b.Run(fmt.Sprintf("invoice_lines/rows=%d", n), func(b *testing.B) {
			rows := InvoiceLines(2, testBase, n)
			for _, v := range variants {
				b.Run(v.name, func(b *testing.B) {
					benchWrite(b, rows, v.lib, v.cfg, func(l Library, w *countingWriter, c Config) (Writer[InvoiceLine], error) {
						return NewInvoiceLineWriter(l, w, c)
					})
				})
			}
		})
	}
}

// cpuTime is the process's user+system CPU time in nanoseconds. On a
// shared machine wall time includes waiting for a core; CPU time is the
// work itself (all threads: the writer, its goroutines and the GC).
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// shipmentPlain is Shipment without dictionary encoding on any column.
type shipmentPlain struct {
	ShipmentID   string  `parquet:"shipment_id"`
	Origin       string  `parquet:"origin"`
	Destination  string  `parquet:"destination"`
	Carrier      string  `parquet:"carrier"`
	WeightKg     float64 `parquet:"weight_kg"`
	EventTime    int64   `parquet:"event_time,timestamp(microsecond:utc)"`
	EventID      *string `parquet:"event_id,optional"`
	RecordType   string  `parquet:"record_type"`
	SourceObject string  `parquet:"source_object"`
	SourceETag   string  `parquet:"source_etag"`
	SourceOffset int64   `parquet:"source_offset"`
	IngestedAt   int64   `parquet:"ingested_at,timestamp(microsecond:utc)"`
}

// BenchmarkDictionary measures what dictionary encoding of the
// low-cardinality string columns buys with parquet-go (file size, time).
func BenchmarkDictionary(b *testing.B) {
	rows := Shipments(1, testBase, 100_000)
	plain := make([]shipmentPlain, len(rows))
	for i := range rows {
		plain[i] = shipmentPlain(rows[i])
	}
	b.Run("shipments/rows=100000/dict", func(b *testing.B) {
		benchWrite(b, rows, ParquetGo, DefaultConfig(), func(_ Library, w *countingWriter, c Config) (Writer[Shipment], error) {
			return newParquetGoWriter[Shipment](w, c), nil
		})
	})
	b.Run("shipments/rows=100000/plain", func(b *testing.B) {
		benchWrite(b, plain, ParquetGo, DefaultConfig(), func(_ Library, w *countingWriter, c Config) (Writer[shipmentPlain], error) {
			return newParquetGoWriter[shipmentPlain](w, c), nil
		})
	})
}
