package decode

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/work"
)

// got is a compact rendering of an item for table tests.
func render(it Item) string {
	if it.Bad != nil {
		return fmt.Sprintf("BAD %s @%d line %d idx %d raw %q", it.Bad.Reason, it.Offset, it.Line, it.Index, it.Bad.Raw)
	}
	return fmt.Sprintf("%s @%d line %d idx %d", it.Data, it.Offset, it.Line, it.Index)
}

func collect(t testing.TB, r io.Reader, opts Options) ([]string, error) {
	d := New(r, opts)
	var out []string
	for {
		it, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, render(it))
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestDecode(t *testing.T) {
	long := strings.Repeat("x", 300)
	gzTrunc := gz(`{"a":1}` + "\n" + `{"b":2}` + "\n" + `{"c":3}` + "\n")
	gzTrunc = gzTrunc[:len(gzTrunc)-12] // cut inside the deflate stream / trailer
	cases := []struct {
		name string
		in   []byte
		opts Options
		want []string
	}{
		{"jsonl bom crlf blank", []byte("\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}\n"), Options{Format: work.JSONL}, []string{
			`{"a":1} @0 line 1 idx -1`, `{"b":2} @17 line 4 idx -1`}},
		{"jsonl no final newline, garbage passes through", []byte("{\"a\":1}\nnot json"), Options{Format: work.JSONL}, []string{
			`{"a":1} @0 line 1 idx -1`, `not json @8 line 2 idx -1`}},
		{"jsonl oversized", []byte("{\"a\":1}\n" + long + "\n{}\n"), Options{Format: work.JSONL, MaxLineBytes: 100, MaxRawBytes: 5}, []string{
			`{"a":1} @0 line 1 idx -1`, `BAD oversized @8 line 2 idx -1 raw "xxxxx"`, `{} @309 line 3 idx -1`}},
		{"gzip jsonl", gz("{\"a\":1}\n{\"b\":2}"), Options{Format: work.JSONL, Gzip: true}, []string{
			`{"a":1} @0 line 1 idx -1`, `{"b":2} @8 line 2 idx -1`}},
		{"gzip truncated", gzTrunc, Options{Format: work.JSONL, Gzip: true}, nil /* checked below */},
		{"gzip bad header", []byte("{\"a\":1}\n"), Options{Format: work.JSONL, Gzip: true}, []string{
			`BAD truncated @0 line 0 idx -1 raw ""`}},
		{"gzip empty", nil, Options{Format: work.JSONL, Gzip: true}, nil},
		{"json array", []byte("\xEF\xBB\xBF [ {\"a\":1},\n 2 , {\"b\":[1]} ]\n"), Options{Format: work.JSON}, []string{
			`{"a":1} @6 line 0 idx 0`, `2 @16 line 0 idx 1`, `{"b":[1]} @20 line 0 idx 2`}},
		{"json empty array", []byte("[]"), Options{Format: work.JSON}, nil},
		{"json object stream", []byte("{\"a\":1}\n{\n \"b\":2\n}"), Options{Format: work.JSON}, []string{
			`{"a":1} @0 line 0 idx 0`, "{\n \"b\":2\n} @8 line 0 idx 1"}},
		{"json unterminated array", []byte(`[{"a":1},{"b":2}`), Options{Format: work.JSON}, []string{
			`{"a":1} @1 line 0 idx 0`, `{"b":2} @9 line 0 idx 1`, `BAD truncated @16 line 0 idx 2 raw ""`}},
		{"json element cut", []byte(`[{"a":1},{"b":`), Options{Format: work.JSON}, []string{
			`{"a":1} @1 line 0 idx 0`, `BAD truncated @8 line 0 idx 1 raw "{\"b\":"`}},
		{"json malformed element", []byte(`[{"a":1},{"b" 2},{"c":3}]`), Options{Format: work.JSON}, []string{
			`{"a":1} @1 line 0 idx 0`, `BAD malformed_json @8 line 0 idx 1 raw "{\"b\" 2},{\"c\":3}]"`}},
		{"json oversized element", []byte(`[{"a":"` + long + `"},{}]`), Options{Format: work.JSON, MaxLineBytes: 100, MaxRawBytes: 4}, []string{
			`BAD oversized @1 line 0 idx 0 raw "{\"a\""`, `{} @310 line 0 idx 1`}},
		{"gzip json", gz(`[{"a":1}]`), Options{Format: work.JSON, Gzip: true}, []string{`{"a":1} @1 line 0 idx 0`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, bytes.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if tc.name == "gzip truncated" {
				if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "BAD truncated") {
					t.Fatalf("got %q", got)
				}
				for _, g := range got[:len(got)-1] {
					if strings.HasPrefix(g, "BAD") {
						t.Fatalf("got %q", got)
					}
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// A chunk reads only the lines that start inside its range.
func TestDecodeRange(t *testing.T) {
	content := []byte("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
	rng := objstore.Range{Offset: 3, Length: 10}
	got, err := collect(t, bytes.NewReader(content[chunk.ReadStart(rng):]), Options{Format: work.JSONL, Range: rng})
	if err != nil || len(got) != 1 || got[0] != `{"b":2} @8 line 1 idx -1` {
		t.Fatalf("%q %v", got, err)
	}
}

type brokenReader struct {
	data []byte
}

var errStore = errors.New("connection reset")

func (b *brokenReader) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, errStore
	}
	n := copy(p, b.data[:min(len(b.data), 7)])
	b.data = b.data[n:]
	return n, nil
}

// A failing store read is an error (the message is retried), never a
// quarantined "truncation".
func TestStoreErrorIsNotQuarantined(t *testing.T) {
	body := `[{"a":1},{"b":2},{"c":3}]`
	for _, opts := range []Options{{Format: work.JSONL}, {Format: work.JSONL, Gzip: true}, {Format: work.JSON}, {Format: work.JSON, Gzip: true}} {
		in := []byte(strings.ReplaceAll(body, "},", "}\n"))
		if opts.Format == work.JSON {
			in = []byte(body)
		}
		if opts.Gzip {
			in = gz(string(in))
		}
		in = in[:len(in)-3]
		_, err := collect(t, &brokenReader{data: in}, opts)
		if !errors.Is(err, errStore) {
			t.Errorf("%+v: got %v, want the store error", opts, err)
		}
	}
}

// genReader produces n JSONL records without holding them.
type genReader struct {
	n, i int
	buf  []byte
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.buf = fmt.Appendf(g.buf[:0], `{"record_type":"tracking_events","event_id":"e%d","shipment_id":"S%d","status":"in_transit","city":"Oslo","event_time":"2024-05-01T10:00:00Z"}`+"\n", g.i, g.i)
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// Memory does not grow with the input: the heap after decoding 20x more
// lines stays within a small constant.
func TestDecodeMemoryFlat(t *testing.T) {
	heapAfter := func(n int) uint64 {
		d := New(&genReader{n: n}, Options{Format: work.JSONL})
		var peak uint64
		var ms runtime.MemStats
		for i := 0; ; i++ {
			_, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if i%20000 == 0 {
				// Live heap, not garbage waiting for the next cycle: how
				// much is uncollected at a sample depends on GC timing
				// (the machine's load), which made this test flaky.
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		return peak
	}
	small, big := heapAfter(10_000), heapAfter(200_000)
	if big > small+4<<20 {
		t.Fatalf("heap grew from %d to %d bytes", small, big)
	}
}

// FuzzDecode: never panics; for JSON Lines every non-blank line comes out
// once; for a valid JSON array, the elements come out as json.Unmarshal sees
// them.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("{\"a\":1}\r\n\n{\"b\":2}"), false, false)
	f.Add([]byte(`[{"a":1}, 2, "x"]`), true, false)
	f.Add([]byte(`[{"a":1},`), true, false)
	f.Add(gz("{\"a\":1}\n"), false, true)
	f.Add([]byte("\xEF\xBB\xBF[]"), true, false)
	f.Fuzz(func(t *testing.T, data []byte, isJSON, isGzip bool) {
		opts := Options{Format: work.JSONL, Gzip: isGzip, MaxLineBytes: 64}
		if isJSON {
			opts.Format = work.JSON
		}
		d := New(bytes.NewReader(data), opts)
		var items []Item
		for {
			it, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("error without a store failure: %v", err)
			}
			if it.Bad == nil {
				it.Data = append([]byte(nil), it.Data...)
			}
			items = append(items, it)
			if isGzip && len(items) > 10000 {
				break // a small input can inflate a lot; enough checked
			}
			if !isGzip && len(items) > len(data)+2 {
				t.Fatal("more items than bytes")
			}
		}
		if isGzip {
			return
		}
		if !isJSON {
			for _, it := range items {
				if it.Offset < 0 || it.Offset > int64(len(data)) {
					t.Fatalf("offset %d out of bounds", it.Offset)
				}
				if it.Bad == nil && !bytes.HasPrefix(data[it.Offset:], it.Data) && it.Offset != 0 {
					t.Fatalf("item %q not at offset %d", it.Data, it.Offset)
				}
			}
			return
		}
		var elems []json.RawMessage
		if json.Unmarshal(data, &elems) == nil && !bytes.Contains(data, bom) {
			var good []Item
			for _, it := range items {
				if it.Bad != nil && it.Bad.Reason != records.Oversized {
					t.Fatalf("valid array gave bad item %s", render(it))
				}
				good = append(good, it)
			}
			if len(good) != len(elems) {
				t.Fatalf("%d items, want %d", len(good), len(elems))
			}
			for i, it := range good {
				if it.Bad == nil && !bytes.Equal(it.Data, elems[i]) {
					t.Fatalf("element %d = %q, want %q", i, it.Data, elems[i])
				}
				if it.Bad == nil && !bytes.Equal(data[it.Offset:it.Offset+int64(len(it.Data))], it.Data) {
					t.Fatalf("element %d offset %d wrong", i, it.Offset)
				}
			}
		}
	})
}
