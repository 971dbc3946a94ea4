package embedded

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
)

// Inventory is what is on disk now, counted from the objects themselves (not
// from run counters), so it is right across restarts and repeated runs.
type Inventory struct {
	BronzeObjects    int              `json:"bronze_objects"`
	SilverFiles      int              `json:"silver_files"`
	SilverRows       int64            `json:"silver_rows"`
	SilverByType     map[string]int64 `json:"silver_rows_by_type"`
	QuarantineFiles  int              `json:"quarantine_files"`
	Quarantined      int64            `json:"quarantined"`
	QuarantineByType map[string]int64 `json:"quarantined_by_type"`
	Queue            queue.Depth      `json:"queue"`
	DLQ              queue.Depth      `json:"dlq"`
}

// Inventory counts bronze objects, silver rows (from each Parquet footer),
// quarantined records (JSONL lines) and the queue depths.
func (s *Stack) Inventory(ctx context.Context) (Inventory, error) {
	inv := Inventory{SilverByType: map[string]int64{}, QuarantineByType: map[string]int64{}}
	st := s.b.Store
	c := s.cfg
	if err := eachObject(ctx, st, c.BronzeBucket, c.BronzePrefix, func(objstore.ObjectInfo) error {
		inv.BronzeObjects++
		return nil
	}); err != nil {
		return inv, err
	}
	if err := eachObject(ctx, st, c.SilverBucket, c.SilverPrefix, func(o objstore.ObjectInfo) error {
		if !strings.HasSuffix(o.Key, ".parquet") {
			return nil
		}
		n, err := parquetRows(ctx, st, o)
		if err != nil {
			return err
		}
		inv.SilverFiles++
		inv.SilverRows += n
		inv.SilverByType[typeOf(o.Key, c.SilverPrefix)] += n
		return nil
	}); err != nil {
		return inv, err
	}
	if err := eachObject(ctx, st, c.SilverBucket, c.QuarantinePrefix, func(o objstore.ObjectInfo) error {
		n, err := jsonlLines(ctx, st, o)
		if err != nil {
			return err
		}
		inv.QuarantineFiles++
		inv.Quarantined += n
		inv.QuarantineByType[typeOf(o.Key, c.QuarantinePrefix)] += n
		return nil
	}); err != nil {
		return inv, err
	}
	d, err := s.b.Queue.Depth(ctx)
	if err != nil {
		return inv, fmt.Errorf("queue depth: %w", err)
	}
	inv.Queue = d
	if dl, ok := s.b.Queue.(queue.DeadLettered); ok {
		if inv.DLQ, err = dl.DeadLetters().Depth(ctx); err != nil {
			return inv, fmt.Errorf("dlq depth: %w", err)
		}
	}
	return inv, nil
}

// typeOf is the first path segment after prefix (silver/<type>/dt=...).
func typeOf(key, prefix string) string {
	rest := strings.TrimPrefix(key, prefix)
	if i := strings.IndexByte(rest, '/'); i > 0 {
		return rest[:i]
	}
	return "_unknown"
}

func eachObject(ctx context.Context, st objstore.Store, bucket, prefix string, fn func(objstore.ObjectInfo) error) error {
	opts := objstore.ListOptions{Prefix: prefix}
	for {
		page, err := st.List(ctx, bucket, opts)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Objects {
			if err := fn(o); err != nil {
				return err
			}
		}
		if page.NextContinuationToken == "" {
			return nil
		}
		opts.ContinuationToken = page.NextContinuationToken
	}
}

// storeReaderAt reads ranges of one object version (so Parquet reads only
// the footer, not the file).
type storeReaderAt struct {
	ctx context.Context
	st  objstore.Store
	o   objstore.ObjectInfo
}

func (r storeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.o.Size {
		return 0, io.EOF
	}
	rc, _, err := r.st.Get(r.ctx, r.o.Bucket, r.o.Key, &objstore.GetOptions{IfMatch: r.o.ETag, Range: &objstore.Range{Offset: off, Length: int64(len(p))}})
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

func parquetRows(ctx context.Context, st objstore.Store, o objstore.ObjectInfo) (int64, error) {
	f, err := parquet.OpenFile(storeReaderAt{ctx, st, o}, o.Size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, fmt.Errorf("read parquet s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return f.NumRows(), nil
}

func jsonlLines(ctx context.Context, st objstore.Store, o objstore.ObjectInfo) (int64, error) {
	rc, _, err := st.Get(ctx, o.Bucket, o.Key, nil)
	if err != nil {
		return 0, fmt.Errorf("read s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if strings.HasSuffix(o.Key, ".gz") {
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return 0, fmt.Errorf("read s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
		r = zr
	}
	var n int64
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 && (err == nil || err == io.EOF) {
			n++
		}
		if err == bufio.ErrBufferFull {
			// A long line: count it once, skip the rest of it.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
	}
}
