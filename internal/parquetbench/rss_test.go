//go:build unix

package parquetbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The peak-RSS figure needs a fresh process per library: RSS never shrinks
// back, so one process measuring several libraries would report the worst
// so far. BenchmarkPeakRSS starts this test binary again with
// rssChildEnv=LIB,SHAPE,ROWS; TestRSSChild then streams generated rows
// (1024 at a time, nothing kept) into the library's writer and prints one
// result line. The kernel's ru_maxrss of the child is the figure.
const rssChildEnv = "ELT_PARQUETBENCH_RSS_CHILD"

type rssResult struct {
	BaselineKB int64   `json:"baseline_kb"` // ru_maxrss before the writer was made
	Bytes      int64   `json:"bytes"`
	Seconds    float64 `json:"seconds"`
}

const rssMarker = "parquetbench-rss: "

func TestRSSChild(t *testing.T) {
	spec := os.Getenv(rssChildEnv)
	if spec == "" {
		t.Skip("only runs as BenchmarkPeakRSS's subprocess")
	}
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		t.Fatalf("%s=%q, want LIB,SHAPE,ROWS", rssChildEnv, spec)
	}
	lib, shape := Library(parts[0]), parts[1]
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	res := rssResult{BaselineKB: ru.Maxrss}
	out := &countingWriter{}
	start := time.Now()
	g := NewGen(1, testBase)
	switch shape {
	case "shipments":
		err = streamRows(lib, out, n, g.Shipment, NewShipmentWriter)
	case "invoice_lines":
		err = streamRows(lib, out, n, g.InvoiceLine, NewInvoiceLineWriter)
	default:
		err = fmt.Errorf("unknown shape %q", shape)
	}
	if err != nil {
		t.Fatal(err)
	}
	res.Seconds = time.Since(start).Seconds()
	res.Bytes = out.n
	line, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", rssMarker, line)
}

func streamRows[T any](lib Library, out *countingWriter, n int, next func(*T),
	newW func(Library, io.Writer, Config) (Writer[T], error)) error {
	w, err := newW(lib, out, DefaultConfig())
	if err != nil {
		return err
	}
	batch := make([]T, writeBatch)
	for n > 0 {
		k := min(n, len(batch))
		for i := range batch[:k] {
			next(&batch[i])
		}
		if err := w.Write(batch[:k]); err != nil {
			return err
		}
		n -= k
	}
	return w.Close()
}

// BenchmarkPeakRSS reports each library's peak resident set size writing
// 1M shipments rows in its own process, with the child's generator and
// test-binary baseline included (baseline-MB says how much that is).
func BenchmarkPeakRSS(b *testing.B) {
	const rows = 1_000_000
	for _, lib := range Libraries {
		b.Run("shipments/rows=1000000/"+string(lib), func(b *testing.B) {
			var peakKB int64
			var res rssResult
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.count=1", "-test.v")
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,shipments,%d", rssChildEnv, lib, rows))
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
				}
				found := false
				sc := bufio.NewScanner(&stdout)
				for sc.Scan() {
					if s, ok := strings.CutPrefix(sc.Text(), rssMarker); ok {
						if err := json.Unmarshal([]byte(s), &res); err != nil {
							b.Fatal(err)
						}
						found = true
					}
				}
				if !found {
					b.Fatalf("child printed no result:\n%s", stdout.String())
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				peakKB = max(peakKB, ru.Maxrss)
			}
			b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
			b.ReportMetric(float64(res.BaselineKB)/1024, "baseline-MB")
			b.ReportMetric(res.Seconds, "child-s")
			b.ReportMetric(float64(res.Bytes), "file-bytes")
		})
	}
}
