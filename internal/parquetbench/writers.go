package parquetbench

import (
	"fmt"
	"io"
	"slices"
)

// Library names one way of writing Parquet.
type Library string

const (
	// Xitongsys is github.com/xitongsys/parquet-go with its struct tags
	// (writer.NewParquetWriterFromWriter), the library the user named.
	Xitongsys Library = "xitongsys"
	// ParquetGo is github.com/parquet-go/parquet-go's typed writer,
	// parquet.NewGenericWriter[T] over tagged structs.
	ParquetGo Library = "parquet-go"
	// ParquetGoRows is parquet-go's untyped writer (parquet.Writer.WriteRows
	// over parquet.Row built value by value), the way internal/silver uses
	// it because record types are only known at run time.
	ParquetGoRows Library = "parquet-go-rows"
	// ArrowGo is github.com/apache/arrow-go/v18: record batches built with
	// array builders, written by pqarrow.FileWriter.
	ArrowGo Library = "arrow-go"
)

// Libraries lists every writer, in report order.
var Libraries = []Library{Xitongsys, ParquetGo, ParquetGoRows, ArrowGo}

// Config is the policy every library writes with.
type Config struct {
	// RowGroupRows caps a row group; a row group is cut exactly every
	// RowGroupRows rows in every library (internal/silver uses 128Ki).
	RowGroupRows int64
	// PageBytes is the target data page size where the library takes one.
	PageBytes int
	// XitongsysNP is xitongsys's marshalling goroutine count (its "np").
	XitongsysNP int64
}

// DefaultConfig is the policy of the benchmarks: 131072-row row groups
// (as internal/silver), 1 MiB pages, one marshalling goroutine.
func DefaultConfig() Config {
	return Config{RowGroupRows: 128 << 10, PageBytes: 1 << 20, XitongsysNP: 1}
}

func (c Config) check() error {
	if c.RowGroupRows <= 0 || c.PageBytes <= 0 || c.XitongsysNP <= 0 {
		return fmt.Errorf("parquetbench: invalid config %+v", c)
	}
	return nil
}

// Writer writes rows of one shape to one Parquet file. Close writes the
// footer; it does not close the io.Writer the file goes to.
type Writer[T any] interface {
	Write(rows []T) error
	Close() error
}

// shape is what each library needs to know about a row type.
type shape[T any] struct {
	name string
	// xitongsys: its model (a pointer to its tagged struct) and the
	// conversion of a row to that struct (free: same fields, other tags).
	xModel any
	toX    func(*T) any
	// parquet-go rows: the values of one row, appended to row.
	toRow func(*T, []parquetValue) []parquetValue
	// arrow-go: the schema and the append of rows to the record builder.
	arrow arrowShape[T]
	// dictColumns are the low-cardinality columns that every library
	// dictionary-encodes (the parquet-go tags say the same).
	dictColumns []string
}

// NewShipmentWriter returns lib's writer of shipments rows into out.
func NewShipmentWriter(lib Library, out io.Writer, cfg Config) (Writer[Shipment], error) {
	return newWriter(lib, shipmentShape, out, cfg)
}

// NewInvoiceLineWriter returns lib's writer of invoice_lines rows into out.
func NewInvoiceLineWriter(lib Library, out io.Writer, cfg Config) (Writer[InvoiceLine], error) {
	return newWriter(lib, invoiceLineShape, out, cfg)
}

func newWriter[T any](lib Library, s shape[T], out io.Writer, cfg Config) (Writer[T], error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	switch lib {
	case Xitongsys:
		return newXitongsysWriter(s, out, cfg)
	case ParquetGo:
		return newParquetGoWriter[T](out, cfg), nil
	case ParquetGoRows:
		return newParquetGoRowsWriter(s, out, cfg), nil
	case ArrowGo:
		return newArrowWriter(s, out, cfg)
	}
	return nil, fmt.Errorf("parquetbench: unknown library %q (have %v)", lib, Libraries)
}

func isDict(cols []string, name string) bool { return slices.Contains(cols, name) }

var dictColumns = []string{"origin", "destination", "carrier", "sku", "record_type", "source_object", "source_etag"}
