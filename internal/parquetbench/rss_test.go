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
	"testing"
	"time"
)

// The peak-RSS figure needs a fresh process per library: RSS never shrinks
// back, so one process measuring several libraries would report the worst
// so far. BenchmarkPeakRSS starts this test binary again with
// rssChildEnv=LIB,SHAPE,ROWS; TestRSSChild then streams generated rows
// (1024 at a time, nothing kept) into the library's writer and prints one
// result line with its VmHWM (peak resident set of this process image).
// Not ru_maxrss: Linux carries the parent's high-water mark into a forked
// and exec'd child, so the child would report the benchmark parent's heap.
const rssChildEnv = "ELT_PARQUETBENCH_RSS_CHILD"

type rssResult struct {
	BaselineKB int64   `json:"baseline_kb"` // VmHWM before the writer was made
	PeakKB     int64   `json:"peak_kb"`     // VmHWM at the end
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
	baseline, err := peakRSSKB()
	if err != nil {
		t.Fatal(err)
	}
	res := rssResult{BaselineKB: baseline}
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
	if res.PeakKB, err = peakRSSKB(); err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", rssMarker, line)
}

// peakRSSKB is the VmHWM line of /proc/self/status, in KiB.
func peakRSSKB() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read VmHWM: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
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
// 100k and 1M shipments rows in its own process, test-binary baseline
// included (baseline-MB says how much that is). Flat from 100k to 1M means
// memory is bounded by the row group, not by the file.
func BenchmarkPeakRSS(b *testing.B) {
	for _, rows := range benchSizes {
		for _, lib := range Libraries {
			benchPeakRSS(b, lib, rows)
		}
	}
}

func benchPeakRSS(b *testing.B, lib Library, rows int) {
	b.Run(fmt.Sprintf("shipments/rows=%d/%s", rows, lib), func(b *testing.B) {
		var peakKB int64
		var res rssResult
		for b.Loop() {
			res = runRSSChild(b, lib, rows)
			peakKB = max(peakKB, res.PeakKB)
		}
		b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
		b.ReportMetric(float64(res.BaselineKB)/1024, "baseline-MB")
		b.ReportMetric(res.Seconds, "child-s")
		b.ReportMetric(float64(res.Bytes), "file-bytes")
	})
}

func runRSSChild(b *testing.B, lib Library, rows int) rssResult {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,shipments,%d", rssChildEnv, lib, rows))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), rssMarker); ok {
			var res rssResult
			if err := json.Unmarshal([]byte(s), &res); err != nil {
				b.Fatal(err)
			}
			return res
		}
	}
	b.Fatalf("child printed no result:\n%s", stdout.String())
	return rssResult{}
}
