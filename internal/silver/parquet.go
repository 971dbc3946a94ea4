package silver

import (
	"fmt"
	"io"
	"reflect"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"

	"github.com/serverless-elt/elt/internal/records"
)

// The Parquet library sits behind this file only (rowWriter), so replacing
// it (see docs/decisions.md) is a local change.

// Column names of the lineage columns, after the record's own columns.
const (
	ColSourceObject = "source_object" // s3://bucket/key
	ColSourceETag   = "source_etag"
	ColSourceOffset = "source_offset" // byte offset of the line/element in the (decompressed) object
	ColSourceIndex  = "source_index"  // JSON array element index; null for JSON Lines
	ColIngestedAt   = "ingested_at"   // when ingest claimed the object
)

// Columns lists a silver file's columns for a type, in file order:
// event_id, the type's fields, event_time, then the lineage columns. The
// partition column dt is not in the file: it is in the path
// (dt=YYYY-MM-DD), as Hive-style partitioning expects (Glue/Athena reject
// a partition key that is also a data column; DuckDB's hive_partitioning
// adds it from the path).
func Columns(t *records.Type) []string {
	cols := []string{"event_id"}
	for _, f := range t.Fields {
		cols = append(cols, f.Name)
	}
	return append(cols, "event_time", ColSourceObject, ColSourceETag, ColSourceOffset, ColSourceIndex, ColIngestedAt)
}

// schemaFor builds the Parquet schema of a record type from a struct type
// made at run time, because struct schemas keep field order (a
// parquet.Group sorts its fields by name).
func schemaFor(t *records.Type) *parquet.Schema {
	var fields []reflect.StructField
	add := func(name string, typ reflect.Type, tag string) {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(fields)),
			Type: typ,
			Tag:  reflect.StructTag(fmt.Sprintf(`parquet:"%s%s"`, name, tag)),
		})
	}
	str, f64, i64 := reflect.TypeOf(""), reflect.TypeOf(float64(0)), reflect.TypeOf(int64(0))
	const ts = ",timestamp(microsecond:utc)"
	add("event_id", str, ",optional")
	for _, f := range t.Fields {
		opt := ""
		if !f.Required {
			opt = ",optional"
		}
		switch f.Kind {
		case records.String:
			if f.Dict {
				opt += ",dict"
			}
			add(f.Name, str, opt)
		case records.Float:
			add(f.Name, f64, opt)
		case records.Int:
			add(f.Name, i64, opt)
		case records.Time:
			add(f.Name, i64, opt+ts)
		}
	}
	add("event_time", i64, ts)
	add(ColSourceObject, str, ",dict")
	add(ColSourceETag, str, ",dict")
	add(ColSourceOffset, i64, "")
	add(ColSourceIndex, i64, ",optional")
	add(ColIngestedAt, i64, ts)
	st := reflect.StructOf(fields)
	return parquet.NewSchema(t.Name, parquet.SchemaOf(reflect.New(st).Elem().Interface()))
}

// rowWriter writes records of one type to one Parquet file. Values are
// collected per column and handed to the column writers in batches (the
// library's ColumnWriters API), which costs less than assembling rows.
type rowWriter struct {
	typ     *records.Type
	w       *parquet.Writer
	cols    [][]parquet.Value
	n       int   // rows in the current batch
	inGroup int64 // rows in the current row group
	written int64
	// consts holds, for the lineage columns that are the same on every row
	// of the file (source_object, source_etag, ingested_at), batchRows
	// copies of that value, built once: the batch passes a prefix of it
	// instead of building the values row by row. Nil for other columns.
	consts [][]parquet.Value
}

// rowGroupRows bounds a row group, so a writer's memory is bounded however
// many rows the file gets.
const rowGroupRows = 128 << 10

const batchRows = 1024

func newRowWriter(out io.Writer, typ *records.Type, schema *parquet.Schema, src Source) *rowWriter {
	w := parquet.NewWriter(out, schema,
		parquet.Compression(fastSnappy{}),
		// A "dict" column that turns out to have many values falls back to
		// plain encoding instead of growing a huge dictionary.
		parquet.DictionaryMaxBytes(1<<20),
		parquet.CreatedBy("elt", "silver", ""),
	)
	nf := len(typ.Fields)
	cols := make([][]parquet.Value, nf+7)
	consts := make([][]parquet.Value, nf+7)
	constant := func(col int, v parquet.Value) {
		vs := make([]parquet.Value, batchRows)
		for i := range vs {
			vs[i] = v
		}
		consts[col] = vs
	}
	// The values keep these byte slices until the writer is closed.
	constant(nf+2, parquet.ByteArrayValue([]byte(src.Object())))
	constant(nf+3, parquet.ByteArrayValue([]byte(src.ETag)))
	constant(nf+6, parquet.Int64Value(src.IngestedAt.UnixMicro()))
	for i := range cols {
		if consts[i] == nil {
			cols[i] = make([]parquet.Value, 0, batchRows)
		}
	}
	return &rowWriter{typ: typ, w: w, cols: cols, consts: consts}
}

// fastSnappy is the SNAPPY codec using s2's fastest snappy-compatible
// encoder; parquet-go's default uses the slower "better" mode, which cost a
// tenth of the transform's CPU for a few percent of size.
type fastSnappy struct{}

func (fastSnappy) String() string                            { return "SNAPPY" }
func (fastSnappy) CompressionCodec() format.CompressionCodec { return format.Snappy }
func (fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(src))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	return s2.EncodeSnappy(dst[:n], src), nil
}
func (fastSnappy) Decode(dst, src []byte) ([]byte, error) {
	return parquet.Snappy.Decode(dst, src)
}

var _ compress.Codec = fastSnappy{}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// write appends one record. Strings are referenced, not copied, until the
// batch is flushed; records' strings are immutable so that is safe.
//
// Only values of optional columns carry levels: parquet-go's buffers for
// required columns read nothing but the value itself, and the optional
// ones only the definition level (a required column's levels are all 0,
// which is what an unlevelled Value has).
func (rw *rowWriter) write(rec *records.Record, pos Position) error {
	// A full batch is flushed before the next row rather than right after
	// its last one, so the last row written can still be dropped.
	if rw.n == batchRows {
		if err := rw.flush(); err != nil {
			return err
		}
	}
	cols := rw.cols
	if rec.EventID == "" {
		cols[0] = append(cols[0], parquet.Value{})
	} else {
		cols[0] = append(cols[0], parquet.ByteArrayValue(bytesOf(rec.EventID)).Level(0, 1, 0))
	}
	col := 1
	for i := range rw.typ.Fields {
		f := &rw.typ.Fields[i]
		v := &rec.Values[i]
		var pv parquet.Value
		switch {
		case v.Null:
			// the zero Value is NULL at definition level 0
		case f.Kind == records.String:
			pv = parquet.ByteArrayValue(bytesOf(v.Str))
		case f.Kind == records.Float:
			pv = parquet.DoubleValue(v.Num)
		case f.Kind == records.Int:
			pv = parquet.Int64Value(v.Int)
		case f.Kind == records.Time:
			pv = parquet.Int64Value(v.Time.UnixMicro())
		}
		if !f.Required && !v.Null {
			pv = pv.Level(0, 1, col)
		}
		cols[col] = append(cols[col], pv)
		col++
	}
	cols[col] = append(cols[col], parquet.Int64Value(rec.EventTime.UnixMicro()))
	// col+1, col+2: source_object, source_etag (constants)
	cols[col+3] = append(cols[col+3], parquet.Int64Value(pos.Offset))
	if pos.Index >= 0 {
		cols[col+4] = append(cols[col+4], parquet.Int64Value(int64(pos.Index)).Level(0, 1, col+4))
	} else {
		cols[col+4] = append(cols[col+4], parquet.Value{})
	}
	// col+5: ingested_at (constant)
	rw.n++
	return nil
}

// dropLast removes the last row written (it is always still in the
// batch; see write).
func (rw *rowWriter) dropLast() {
	rw.n--
	for i, c := range rw.cols {
		if rw.consts[i] == nil {
			c[len(c)-1] = parquet.Value{}
			rw.cols[i] = c[:len(c)-1]
		}
	}
}

// rows is the number of rows written so far.
func (rw *rowWriter) rows() int64 { return rw.written + int64(rw.n) }

func (rw *rowWriter) flush() error {
	if rw.n == 0 {
		return nil
	}
	for i, cw := range rw.w.ColumnWriters() {
		if c := rw.consts[i]; c != nil {
			if _, err := cw.WriteRowValues(c[:rw.n]); err != nil {
				return fmt.Errorf("write parquet column %d: %w", i, err)
			}
			continue
		}
		if _, err := cw.WriteRowValues(rw.cols[i]); err != nil {
			return fmt.Errorf("write parquet column %d: %w", i, err)
		}
		clear(rw.cols[i]) // drop references to the batch's strings
		rw.cols[i] = rw.cols[i][:0]
	}
	rw.written += int64(rw.n)
	rw.inGroup += int64(rw.n)
	rw.n = 0
	if rw.inGroup >= rowGroupRows {
		rw.inGroup = 0
		if err := rw.w.Flush(); err != nil {
			return fmt.Errorf("flush parquet row group: %w", err)
		}
	}
	return nil
}

func (rw *rowWriter) close() error {
	if err := rw.flush(); err != nil {
		return err
	}
	if err := rw.w.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}
