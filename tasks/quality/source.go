package quality

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/serverless-elt/elt/internal/objstore"
)

// partFile is one Parquet file of the partition.
type partFile struct {
	info    objstore.ObjectInfo
	rows    int64
	columns []Column
}

// listParquet lists the .parquet objects under prefix, in key order.
func listParquet(ctx context.Context, st objstore.Store, bucket, prefix string) ([]objstore.ObjectInfo, error) {
	var out []objstore.ObjectInfo
	opts := objstore.ListOptions{Prefix: prefix}
	for {
		page, err := st.List(ctx, bucket, opts)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Objects {
			// Only the partition's own files: not a nested prefix.
			if strings.HasSuffix(o.Key, ".parquet") && !strings.Contains(o.Key[len(prefix):], "/") {
				out = append(out, o)
			}
		}
		if page.NextContinuationToken == "" {
			return out, nil
		}
		opts.ContinuationToken = page.NextContinuationToken
	}
}

// rangeReader reads ranges of one object version, so a footer costs a
// couple of small reads instead of the file.
type rangeReader struct {
	ctx context.Context
	st  objstore.Store
	o   objstore.ObjectInfo
	// err is the last store failure, so a caller can tell it from a
	// decoding failure whatever the Parquet library wraps it in.
	err error
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.o.Size {
		return 0, io.EOF
	}
	rc, _, err := r.st.Get(r.ctx, r.o.Bucket, r.o.Key, &objstore.GetOptions{IfMatch: r.o.ETag, Range: &objstore.Range{Offset: off, Length: int64(len(p))}})
	if err != nil {
		r.err = err
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// errBadParquet marks a file that is not readable Parquet (data, not
// infrastructure).
var errBadParquet = errors.New("not a readable Parquet file")

// readFooter opens a file's footer for its row count and columns.
func readFooter(ctx context.Context, st objstore.Store, o objstore.ObjectInfo) (partFile, error) {
	rr := &rangeReader{ctx: ctx, st: st, o: o}
	f, err := parquet.OpenFile(rr, o.Size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		if rr.err != nil {
			return partFile{}, fmt.Errorf("read footer of s3://%s/%s: %w", o.Bucket, o.Key, rr.err)
		}
		return partFile{}, fmt.Errorf("s3://%s/%s: %w: %v", o.Bucket, o.Key, errBadParquet, err)
	}
	pf := partFile{info: o, rows: f.NumRows()}
	for _, c := range f.Root().Columns() {
		pf.columns = append(pf.columns, Column{Name: c.Name(), Type: columnType(c)})
	}
	return pf, nil
}

func columnType(c *parquet.Column) ColumnType {
	if !c.Leaf() || c.Repeated() {
		return TypeOther
	}
	t := c.Type()
	lt := t.LogicalType()
	switch t.Kind() {
	case parquet.ByteArray:
		return TypeString
	case parquet.Double, parquet.Float:
		return TypeDouble
	case parquet.Int64, parquet.Int32:
		if lt != nil {
			if _, ok := lt.Value.(*format.TimestampType); ok {
				return TypeTimestamp
			}
		}
		return TypeInt64
	}
	return TypeOther
}

// timestampScale converts a timestamp column's unit to microseconds.
func timestampScale(c *parquet.Column) (mul, div int64) {
	lt := c.Type().LogicalType()
	if lt == nil {
		return 1, 1
	}
	ts, ok := lt.Value.(*format.TimestampType)
	if !ok {
		return 1, 1
	}
	switch ts.Unit.Value.(type) {
	case *format.MilliSeconds:
		return 1000, 1
	case *format.NanoSeconds:
		return 1, 1000
	}
	return 1, 1
}

// stage copies an object version to a temporary file (one file of the
// partition on disk at a time).
func stage(ctx context.Context, st objstore.Store, o objstore.ObjectInfo, dir string) (*os.File, error) {
	rc, _, err := st.Get(ctx, o.Bucket, o.Key, &objstore.GetOptions{IfMatch: o.ETag})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, "elt-quality-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("stage s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("stage s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return f, nil
}

// scanFile streams the needed columns of one Parquet file into v, column
// by column (one page in memory at a time). base is the batch row index of
// the file's first row; columns of the batch the file lacks read as nulls.
func scanFile(ctx context.Context, r io.ReaderAt, size int64, base int64, batchCols []Column, v *Validator) error {
	f, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadParquet, err)
	}
	rows := f.NumRows()
	byName := map[string]*parquet.Column{}
	for _, c := range f.Root().Columns() {
		byName[c.Name()] = c
	}
	buf := make([]parquet.Value, 1024)
	for _, bc := range batchCols {
		sink := v.Sink(bc.Name)
		if sink == nil {
			continue
		}
		c := byName[bc.Name]
		if c == nil || columnType(c) != bc.Type {
			// Missing here (or of another type than the batch's): nulls.
			for i := int64(0); i < rows; i++ {
				sink(base+i, Value{})
			}
			continue
		}
		if err := scanColumn(ctx, c, base, rows, buf, sink); err != nil {
			return fmt.Errorf("column %s: %w", bc.Name, err)
		}
	}
	return nil
}

func scanColumn(ctx context.Context, c *parquet.Column, base, rows int64, buf []parquet.Value, sink func(int64, Value)) error {
	typ := columnType(c)
	mul, div := timestampScale(c)
	pages := c.Pages()
	defer pages.Close()
	row := base
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errBadParquet, err)
		}
		vals := page.Values()
		for {
			n, err := vals.ReadValues(buf)
			for _, pv := range buf[:n] {
				sink(row, convert(pv, typ, mul, div))
				row++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				parquet.Release(page)
				return fmt.Errorf("%w: %v", errBadParquet, err)
			}
		}
		parquet.Release(page)
	}
	if row-base != rows {
		return fmt.Errorf("%w: column has %d values for %d rows", errBadParquet, row-base, rows)
	}
	return nil
}

// convert copies a Parquet value out of its page. NaN doubles are missing
// values, as pandas treats them.
func convert(pv parquet.Value, typ ColumnType, mul, div int64) Value {
	if pv.IsNull() {
		return Value{}
	}
	switch typ {
	case TypeString:
		return Value{Kind: String, Str: string(pv.ByteArray())}
	case TypeDouble:
		var f float64
		if pv.Kind() == parquet.Float {
			f = float64(pv.Float())
		} else {
			f = pv.Double()
		}
		if math.IsNaN(f) {
			return Value{}
		}
		return Value{Kind: Double, Num: f}
	case TypeInt64:
		if pv.Kind() == parquet.Int32 {
			return Value{Kind: Int64, Int: int64(pv.Int32())}
		}
		return Value{Kind: Int64, Int: pv.Int64()}
	case TypeTimestamp:
		var n int64
		if pv.Kind() == parquet.Int32 {
			n = int64(pv.Int32())
		} else {
			n = pv.Int64()
		}
		return Value{Kind: Timestamp, Int: n * mul / div}
	}
	return Value{}
}
