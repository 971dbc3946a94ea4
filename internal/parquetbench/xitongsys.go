package parquetbench

import (
	"fmt"
	"io"

	xparquet "github.com/xitongsys/parquet-go/parquet"
	xwriter "github.com/xitongsys/parquet-go/writer"
)

// xShipment is Shipment with xitongsys's tags. Timestamps carry the
// TIMESTAMP(MICROS, isAdjustedToUTC) logical type; without it they would be
// plain INT64 (BIGINT in DuckDB).
type xShipment struct {
	ShipmentID   string  `parquet:"name=shipment_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	Origin       string  `parquet:"name=origin, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Destination  string  `parquet:"name=destination, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Carrier      string  `parquet:"name=carrier, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	WeightKg     float64 `parquet:"name=weight_kg, type=DOUBLE"`
	EventTime    int64   `parquet:"name=event_time, type=INT64, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MICROS"`
	EventID      *string `parquet:"name=event_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	RecordType   string  `parquet:"name=record_type, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	SourceObject string  `parquet:"name=source_object, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	SourceETag   string  `parquet:"name=source_etag, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	SourceOffset int64   `parquet:"name=source_offset, type=INT64"`
	IngestedAt   int64   `parquet:"name=ingested_at, type=INT64, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MICROS"`
}

type xInvoiceLine struct {
	InvoiceID    string  `parquet:"name=invoice_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	SKU          string  `parquet:"name=sku, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Quantity     int64   `parquet:"name=quantity, type=INT64"`
	UnitPrice    float64 `parquet:"name=unit_price, type=DOUBLE"`
	LineTotal    float64 `parquet:"name=line_total, type=DOUBLE"`
	EventTime    int64   `parquet:"name=event_time, type=INT64, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MICROS"`
	EventID      *string `parquet:"name=event_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	RecordType   string  `parquet:"name=record_type, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	SourceObject string  `parquet:"name=source_object, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	SourceETag   string  `parquet:"name=source_etag, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	SourceOffset int64   `parquet:"name=source_offset, type=INT64"`
	IngestedAt   int64   `parquet:"name=ingested_at, type=INT64, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MICROS"`
}

// xitongsysWriter cuts a row group every RowGroupRows rows with
// Flush(true): the library itself only cuts by estimated bytes
// (RowGroupSize), which is set out of reach so the row policy governs.
type xitongsysWriter[T any] struct {
	pw     *xwriter.ParquetWriter
	toX    func(*T) any
	rg     int64
	inRG   int64
	closed bool
}

func newXitongsysWriter[T any](s shape[T], out io.Writer, cfg Config) (*xitongsysWriter[T], error) {
	pw, err := xwriter.NewParquetWriterFromWriter(out, s.xModel, cfg.XitongsysNP)
	if err != nil {
		return nil, fmt.Errorf("xitongsys: new writer for %s: %w", s.name, err)
	}
	pw.CompressionType = xparquet.CompressionCodec_SNAPPY
	pw.PageSize = int64(cfg.PageBytes)
	pw.RowGroupSize = 1 << 62
	return &xitongsysWriter[T]{pw: pw, toX: s.toX, rg: cfg.RowGroupRows}, nil
}

func (w *xitongsysWriter[T]) Write(rows []T) error {
	for i := range rows {
		if err := w.pw.Write(w.toX(&rows[i])); err != nil {
			return fmt.Errorf("xitongsys: write row: %w", err)
		}
		w.inRG++
		if w.inRG == w.rg {
			if err := w.pw.Flush(true); err != nil {
				return fmt.Errorf("xitongsys: flush row group: %w", err)
			}
			w.inRG = 0
		}
	}
	return nil
}

func (w *xitongsysWriter[T]) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.pw.WriteStop(); err != nil {
		return fmt.Errorf("xitongsys: write footer: %w", err)
	}
	return nil
}
