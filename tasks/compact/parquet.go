package compact

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
)

// layout locates the columns compaction looks at in a silver row (flat
// schema: row[i] is column i, in silver.Columns order).
type layout struct {
	schema    *parquet.Schema
	ncols     int
	eventID   int
	eventTime int
	object    int
	offset    int
	index     int
	ingested  int
	interned  []bool // low-cardinality byte-array columns: values are interned
}

func newLayout(t *records.Type) *layout {
	n := len(t.Fields)
	l := &layout{
		schema: silver.Schema(t), ncols: n + 7,
		eventID: 0, eventTime: n + 1, object: n + 2, offset: n + 4, index: n + 5, ingested: n + 6,
	}
	l.interned = make([]bool, l.ncols)
	for i, f := range t.Fields {
		l.interned[i+1] = f.Dict
	}
	l.interned[n+2], l.interned[n+3] = true, true // source_object, source_etag
	return l
}

// interner shares the bytes of repeated values (places, carriers, source
// objects) between rows instead of copying them per row.
type interner map[string][]byte

func (in interner) get(b []byte) []byte {
	if v, ok := in[string(b)]; ok {
		return v
	}
	v := bytes.Clone(b)
	in[string(v)] = v
	return v
}

// scanRows decodes every row of a silver Parquet file (f, size bytes) as a
// row of l's schema, converting an older file schema (e.g. written before a
// column became optional) when parquet-go can, and calls fn with each; the
// row is only valid during the call.
func (l *layout) scanRows(f io.ReaderAt, size int64, fn func(parquet.Row)) (int64, error) {
	pf, err := parquet.OpenFile(f, size)
	if err != nil {
		return 0, fmt.Errorf("open parquet: %w", err)
	}
	var conv parquet.Conversion
	if !parquet.EqualNodes(pf.Schema(), l.schema) {
		if conv, err = parquet.Convert(l.schema, pf.Schema()); err != nil {
			return 0, fmt.Errorf("file schema does not convert to the record type's: %w", err)
		}
	}
	var n int64
	buf := make([]parquet.Row, 256)
	for _, rg := range pf.RowGroups() {
		if conv != nil {
			rg = parquet.ConvertRowGroup(rg, conv)
		}
		rr := rg.Rows()
		for {
			k, err := rr.ReadRows(buf)
			for _, row := range buf[:k] {
				if len(row) != l.ncols {
					rr.Close()
					return n, fmt.Errorf("row has %d values, want %d", len(row), l.ncols)
				}
				fn(row)
				n++
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rr.Close()
				return n, fmt.Errorf("read rows: %w", err)
			}
		}
		if err := rr.Close(); err != nil {
			return n, fmt.Errorf("close row reader: %w", err)
		}
	}
	return n, nil
}

// readRows appends every row of a file to dst, copying the byte arrays
// (interning the low-cardinality ones).
func (l *layout) readRows(f io.ReaderAt, size int64, in interner, dst []parquet.Row) ([]parquet.Row, int64, error) {
	n, err := l.scanRows(f, size, func(row parquet.Row) {
		c := make(parquet.Row, len(row))
		for i, v := range row {
			if v.Kind() == parquet.ByteArray && !v.IsNull() {
				b := v.ByteArray()
				if l.interned[i] {
					b = in.get(b)
				} else {
					b = bytes.Clone(b)
				}
				c[i] = parquet.ByteArrayValue(b).Level(v.RepetitionLevel(), v.DefinitionLevel(), v.Column())
			} else {
				c[i] = v
			}
		}
		dst = append(dst, c)
	})
	return dst, n, err
}

func (l *layout) str(r parquet.Row, col int) []byte {
	if r[col].IsNull() {
		return nil
	}
	return r[col].ByteArray()
}

func (l *layout) i64(r parquet.Row, col int) int64 {
	if r[col].IsNull() {
		return -1
	}
	return r[col].Int64()
}

// lineageCmp orders copies of one event: the first ingested copy (then the
// lowest source object and offset) is the one kept, so lineage points at
// the original arrival whatever order the files were listed in.
func (l *layout) lineageCmp(a, b parquet.Row) int {
	return cmp.Or(
		cmp.Compare(l.i64(a, l.ingested), l.i64(b, l.ingested)),
		bytes.Compare(l.str(a, l.object), l.str(b, l.object)),
		cmp.Compare(l.i64(a, l.offset), l.i64(b, l.offset)),
		cmp.Compare(l.i64(a, l.index), l.i64(b, l.index)),
	)
}

// outputCmp is the output order: event_time, then event_id and lineage so
// the order (and so the files and their checksums) is fully determined by
// the rows, whatever order the inputs were read in.
func (l *layout) outputCmp(a, b parquet.Row) int {
	return cmp.Or(
		cmp.Compare(l.i64(a, l.eventTime), l.i64(b, l.eventTime)),
		bytes.Compare(l.str(a, l.eventID), l.str(b, l.eventID)),
		l.lineageCmp(a, b),
	)
}

// dedupe keeps one row per event_id (see lineageCmp for which) and every
// row without an event_id; it returns the kept rows sorted in output order
// and the number dropped.
//
// Rows without an event_id are all kept: two identical events without ids
// may well be two real events (two identical scans), and silver never
// holds the same source row twice (a repeat rewrites the same file), so a
// full-row dedupe could only remove real data.
func (l *layout) dedupe(rows []parquet.Row) (kept []parquet.Row, dropped, noID int64) {
	best := make(map[string]int, len(rows))
	kept = make([]parquet.Row, 0, len(rows))
	for _, r := range rows {
		id := l.str(r, l.eventID)
		if r[l.eventID].IsNull() {
			noID++
			kept = append(kept, r)
			continue
		}
		if j, ok := best[string(id)]; ok {
			dropped++
			if l.lineageCmp(r, kept[j]) < 0 {
				kept[j] = r
			}
			continue
		}
		best[string(id)] = len(kept)
		kept = append(kept, r)
	}
	slices.SortFunc(kept, l.outputCmp)
	return kept, dropped, noID
}

// writeFile writes rows as one silver-shaped Parquet file to a temp file
// in dir and returns it rewound, with its size and SHA-256.
func (l *layout) writeFile(dir string, rows []parquet.Row) (*os.File, int64, string, error) {
	f, err := os.CreateTemp(dir, "elt-compact-*.parquet")
	if err != nil {
		return nil, 0, "", fmt.Errorf("create temp file: %w", err)
	}
	fail := func(err error) (*os.File, int64, string, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, "", err
	}
	h := sha256.New()
	w := parquet.NewWriter(io.MultiWriter(f, h), l.schema,
		parquet.Compression(silver.Codec()),
		parquet.DictionaryMaxBytes(1<<20),
		parquet.MaxRowsPerRowGroup(128<<10),
		parquet.CreatedBy("elt", "compact", ""),
	)
	for len(rows) > 0 {
		n := min(len(rows), 1024)
		if _, err := w.WriteRows(rows[:n]); err != nil {
			return fail(fmt.Errorf("write parquet rows: %w", err))
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		return fail(fmt.Errorf("close parquet writer: %w", err))
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fail(fmt.Errorf("rewind %s: %w", f.Name(), err))
	}
	return f, size, hex.EncodeToString(h.Sum(nil)), nil
}

// countRows reads a whole file back (every row decoded, not just the
// footer's count) and returns the number of rows.
func (l *layout) countRows(f io.ReaderAt, size int64) (int64, error) {
	return l.scanRows(f, size, func(parquet.Row) {})
}

// fileSHA256 hashes a file from its start.
func fileSHA256(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
