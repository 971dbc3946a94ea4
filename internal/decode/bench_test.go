package decode

import (
	"bytes"
	"io"
	"testing"

	"github.com/serverless-elt/elt/internal/work"
)

// BenchmarkDecodeJSONL: lines out of a JSONL stream (no parsing).
func BenchmarkDecodeJSONL(b *testing.B) {
	data, _ := io.ReadAll(&genReader{n: 100_000})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := New(bytes.NewReader(data), Options{Format: work.JSONL})
		n := 0
		for {
			_, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100_000 {
			b.Fatal(n)
		}
	}
}

// BenchmarkDecodeJSONArray: elements out of one JSON array.
func BenchmarkDecodeJSONArray(b *testing.B) {
	lines, _ := io.ReadAll(&genReader{n: 20_000})
	data := append([]byte("["), bytes.ReplaceAll(bytes.TrimSpace(lines), []byte("\n"), []byte(",\n"))...)
	data = append(data, ']')
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := New(bytes.NewReader(data), Options{Format: work.JSON})
		for {
			it, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || it.Bad != nil {
				b.Fatal(err, it.Bad)
			}
		}
	}
}
