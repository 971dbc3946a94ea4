package parquetbench

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	aparquet "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// arrowShape is a row type's Arrow schema and the append of rows to a
// record builder made from it.
type arrowShape[T any] struct {
	schema *arrow.Schema
	append func(b *array.RecordBuilder, rows []T)
}

// tsUTC is timestamp[us, tz=UTC]: pqarrow writes it as
// TIMESTAMP(MICROS, isAdjustedToUTC=true).
var tsUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func reqField(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }

var lineageFields = []arrow.Field{
	{Name: "event_time", Type: tsUTC},
	{Name: "event_id", Type: arrow.BinaryTypes.String, Nullable: true},
	reqField("record_type", arrow.BinaryTypes.String),
	reqField("source_object", arrow.BinaryTypes.String),
	reqField("source_etag", arrow.BinaryTypes.String),
	reqField("source_offset", arrow.PrimitiveTypes.Int64),
	reqField("ingested_at", tsUTC),
}

var shipmentArrowSchema = arrow.NewSchema(append([]arrow.Field{
	reqField("shipment_id", arrow.BinaryTypes.String),
	reqField("origin", arrow.BinaryTypes.String),
	reqField("destination", arrow.BinaryTypes.String),
	reqField("carrier", arrow.BinaryTypes.String),
	reqField("weight_kg", arrow.PrimitiveTypes.Float64),
}, lineageFields...), nil)

var invoiceLineArrowSchema = arrow.NewSchema(append([]arrow.Field{
	reqField("invoice_id", arrow.BinaryTypes.String),
	reqField("sku", arrow.BinaryTypes.String),
	reqField("quantity", arrow.PrimitiveTypes.Int64),
	reqField("unit_price", arrow.PrimitiveTypes.Float64),
	reqField("line_total", arrow.PrimitiveTypes.Float64),
}, lineageFields...), nil)

// lineageBuilders are the builders of the seven columns after a shape's
// first five.
type lineageBuilders struct {
	eventTime, ingestedAt *array.TimestampBuilder
	eventID, recordType   *array.StringBuilder
	object, etag          *array.StringBuilder
	offset                *array.Int64Builder
}

func lineageOf(b *array.RecordBuilder) lineageBuilders {
	return lineageBuilders{
		eventTime:  b.Field(5).(*array.TimestampBuilder),
		eventID:    b.Field(6).(*array.StringBuilder),
		recordType: b.Field(7).(*array.StringBuilder),
		object:     b.Field(8).(*array.StringBuilder),
		etag:       b.Field(9).(*array.StringBuilder),
		offset:     b.Field(10).(*array.Int64Builder),
		ingestedAt: b.Field(11).(*array.TimestampBuilder),
	}
}

func (l *lineageBuilders) add(eventTime int64, eventID *string, recordType, object, etag string, offset, ingested int64) {
	l.eventTime.Append(arrow.Timestamp(eventTime))
	if eventID == nil {
		l.eventID.AppendNull()
	} else {
		l.eventID.Append(*eventID)
	}
	l.recordType.Append(recordType)
	l.object.Append(object)
	l.etag.Append(etag)
	l.offset.Append(offset)
	l.ingestedAt.Append(arrow.Timestamp(ingested))
}

func appendShipments(b *array.RecordBuilder, rows []Shipment) {
	id := b.Field(0).(*array.StringBuilder)
	origin := b.Field(1).(*array.StringBuilder)
	dest := b.Field(2).(*array.StringBuilder)
	carrier := b.Field(3).(*array.StringBuilder)
	weight := b.Field(4).(*array.Float64Builder)
	l := lineageOf(b)
	for i := range rows {
		r := &rows[i]
		id.Append(r.ShipmentID)
		origin.Append(r.Origin)
		dest.Append(r.Destination)
		carrier.Append(r.Carrier)
		weight.Append(r.WeightKg)
		l.add(r.EventTime, r.EventID, r.RecordType, r.SourceObject, r.SourceETag, r.SourceOffset, r.IngestedAt)
	}
}

func appendInvoiceLines(b *array.RecordBuilder, rows []InvoiceLine) {
	id := b.Field(0).(*array.StringBuilder)
	sku := b.Field(1).(*array.StringBuilder)
	qty := b.Field(2).(*array.Int64Builder)
	price := b.Field(3).(*array.Float64Builder)
	total := b.Field(4).(*array.Float64Builder)
	l := lineageOf(b)
	for i := range rows {
		r := &rows[i]
		id.Append(r.InvoiceID)
		sku.Append(r.SKU)
		qty.Append(r.Quantity)
		price.Append(r.UnitPrice)
		total.Append(r.LineTotal)
		l.add(r.EventTime, r.EventID, r.RecordType, r.SourceObject, r.SourceETag, r.SourceOffset, r.IngestedAt)
	}
}

// arrowWriter builds one record batch per row group and writes it with
// pqarrow.FileWriter.Write, which makes each batch one row group.
type arrowWriter[T any] struct {
	fw     *pqarrow.FileWriter
	rb     *array.RecordBuilder
	append func(*array.RecordBuilder, []T)
	rg, n  int64
	closed bool
}

// noClose keeps the caller's io.Writer open: pqarrow closes its sink when
// it is an io.Closer.
type noClose struct{ io.Writer }

func newArrowWriter[T any](s shape[T], out io.Writer, cfg Config) (*arrowWriter[T], error) {
	opts := []aparquet.WriterProperty{
		aparquet.WithCompression(compress.Codecs.Snappy),
		aparquet.WithMaxRowGroupLength(cfg.RowGroupRows),
		aparquet.WithDataPageSize(int64(cfg.PageBytes)),
		// Same encodings as the other libraries: dictionary only for the
		// low-cardinality columns (arrow-go's default is every column).
		aparquet.WithDictionaryDefault(false),
	}
	for _, f := range s.arrow.schema.Fields() {
		if isDict(s.dictColumns, f.Name) {
			opts = append(opts, aparquet.WithDictionaryFor(f.Name, true))
		}
	}
	mem := memory.DefaultAllocator
	fw, err := pqarrow.NewFileWriter(s.arrow.schema, noClose{out}, aparquet.NewWriterProperties(opts...),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		return nil, fmt.Errorf("arrow-go: new writer for %s: %w", s.name, err)
	}
	return &arrowWriter[T]{fw: fw, rb: array.NewRecordBuilder(mem, s.arrow.schema), append: s.arrow.append, rg: cfg.RowGroupRows}, nil
}

func (w *arrowWriter[T]) Write(rows []T) error {
	for len(rows) > 0 {
		take := min(int64(len(rows)), w.rg-w.n)
		w.append(w.rb, rows[:take])
		w.n += take
		rows = rows[take:]
		if w.n == w.rg {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *arrowWriter[T]) flush() error {
	if w.n == 0 {
		return nil
	}
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.n = 0
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("arrow-go: write row group: %w", err)
	}
	return nil
}

func (w *arrowWriter[T]) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.rb.Release()
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("arrow-go: close: %w", err)
	}
	return nil
}
