package parquetbench

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

type parquetValue = parquet.Value

func parquetGoOptions(cfg Config) []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(cfg.RowGroupRows),
		parquet.PageBufferSize(cfg.PageBytes),
	}
}

// parquetGoWriter is the typed writer: the schema comes from T's tags
// (dict, optional, timestamp(microsecond:utc)).
type parquetGoWriter[T any] struct{ w *parquet.GenericWriter[T] }

func newParquetGoWriter[T any](out io.Writer, cfg Config) *parquetGoWriter[T] {
	return &parquetGoWriter[T]{w: parquet.NewGenericWriter[T](out, parquetGoOptions(cfg)...)}
}

func (w *parquetGoWriter[T]) Write(rows []T) error {
	if _, err := w.w.Write(rows); err != nil {
		return fmt.Errorf("parquet-go: write rows: %w", err)
	}
	return nil
}

func (w *parquetGoWriter[T]) Close() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("parquet-go: close: %w", err)
	}
	return nil
}

// parquetGoRowsWriter is the untyped writer: rows are built value by value
// into reused parquet.Row buffers and written in batches, as
// internal/silver does for record types known only at run time. It writes
// the same schema as the typed writer.
type parquetGoRowsWriter[T any] struct {
	w     *parquet.Writer
	toRow func(*T, []parquet.Value) []parquet.Value
	batch []parquet.Row
	n     int
}

const rowsBatch = 256

func newParquetGoRowsWriter[T any](s shape[T], out io.Writer, cfg Config) *parquetGoRowsWriter[T] {
	schema := parquet.SchemaOf(new(T))
	batch := make([]parquet.Row, rowsBatch)
	for i := range batch {
		batch[i] = make(parquet.Row, 0, len(schema.Columns()))
	}
	return &parquetGoRowsWriter[T]{
		w:     parquet.NewWriter(out, append(parquetGoOptions(cfg), schema)...),
		toRow: s.toRow,
		batch: batch,
	}
}

func (w *parquetGoRowsWriter[T]) Write(rows []T) error {
	for i := range rows {
		w.batch[w.n] = w.toRow(&rows[i], w.batch[w.n][:0])
		w.n++
		if w.n == len(w.batch) {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *parquetGoRowsWriter[T]) flush() error {
	if w.n == 0 {
		return nil
	}
	_, err := w.w.WriteRows(w.batch[:w.n])
	w.n = 0
	if err != nil {
		return fmt.Errorf("parquet-go: write rows: %w", err)
	}
	return nil
}

func (w *parquetGoRowsWriter[T]) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("parquet-go: close: %w", err)
	}
	return nil
}

// bytesOf views a string's bytes without copying; rows are immutable and
// the writer copies values into its column buffers on WriteRows.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func req(v parquet.Value, col int) parquet.Value { return v.Level(0, 0, col) }

func str(s string, col int) parquet.Value { return req(parquet.ByteArrayValue(bytesOf(s)), col) }

func optStr(s *string, col int) parquet.Value {
	if s == nil {
		return parquet.NullValue().Level(0, 0, col)
	}
	return parquet.ByteArrayValue(bytesOf(*s)).Level(0, 1, col)
}

func shipmentRow(r *Shipment, row []parquet.Value) []parquet.Value {
	return append(row,
		str(r.ShipmentID, 0),
		str(r.Origin, 1),
		str(r.Destination, 2),
		str(r.Carrier, 3),
		req(parquet.DoubleValue(r.WeightKg), 4),
		req(parquet.Int64Value(r.EventTime), 5),
		optStr(r.EventID, 6),
		str(r.RecordType, 7),
		str(r.SourceObject, 8),
		str(r.SourceETag, 9),
		req(parquet.Int64Value(r.SourceOffset), 10),
		req(parquet.Int64Value(r.IngestedAt), 11),
	)
}

func invoiceLineRow(r *InvoiceLine, row []parquet.Value) []parquet.Value {
	return append(row,
		str(r.InvoiceID, 0),
		str(r.SKU, 1),
		req(parquet.Int64Value(r.Quantity), 2),
		req(parquet.DoubleValue(r.UnitPrice), 3),
		req(parquet.DoubleValue(r.LineTotal), 4),
		req(parquet.Int64Value(r.EventTime), 5),
		optStr(r.EventID, 6),
		str(r.RecordType, 7),
		str(r.SourceObject, 8),
		str(r.SourceETag, 9),
		req(parquet.Int64Value(r.SourceOffset), 10),
		req(parquet.Int64Value(r.IngestedAt), 11),
	)
}
