package fsstore

import (
	"context"
	"fmt"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
)

// Scanner finds objects under a prefix that are new or changed since its
// previous scan. It is how "a file dropped into the bronze folder by hand
// counts as an upload" on the embedded stack: the stack scans bronze and
// feeds what the scanner reports to ingest as ObjectCreated events.
//
// It works over any objstore.Store (it uses List only). It does not rely on
// mtimes moving forward: `mv` and `cp -p` keep a file's old mtime, so the
// scanner remembers each key's (ETag, size, LastModified) and reports any key
// whose triple changed. Ingest claims s3://bucket/key#etag in the ledger, so
// reporting an object twice (after a restart, say) is harmless.
//
// A file being written by hand (a slow `cp`) is not atomic; Settle holds an
// object back until its LastModified is at least Settle old, so a file still
// growing is reported only once it has been quiet for that long.
type Scanner struct {
	store  objstore.Store
	bucket string
	prefix string
	settle time.Duration
	now    func() time.Time
	seen   map[string]stamp
}

type stamp struct {
	etag  string
	size  int64
	mtime int64 // LastModified in Unix nanoseconds
}

// ScanOptions configure a Scanner.
type ScanOptions struct {
	// Settle is how long an object must have been unmodified before it is
	// reported (0 reports at once; objects written with Put are atomic and
	// need no settling).
	Settle time.Duration
	// Now is the clock Settle is measured against (default time.Now).
	Now func() time.Time
}

// NewScanner returns a scanner that has seen nothing yet, so its first Scan
// reports every object under the prefix (call Prime to skip those).
func NewScanner(store objstore.Store, bucket, prefix string, opts ScanOptions) *Scanner {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Scanner{store: store, bucket: bucket, prefix: prefix, settle: opts.Settle, now: now, seen: map[string]stamp{}}
}

// Scan lists the prefix and returns the objects that are new or changed
// since the last Scan (or Prime), in key order. Keys that disappeared are
// forgotten, so a file removed and dropped in again is reported again.
func (s *Scanner) Scan(ctx context.Context) ([]objstore.ObjectInfo, error) {
	return s.scan(ctx, true)
}

// Prime records the current objects as seen without reporting them.
func (s *Scanner) Prime(ctx context.Context) error {
	_, err := s.scan(ctx, false)
	return err
}

func (s *Scanner) scan(ctx context.Context, report bool) ([]objstore.ObjectInfo, error) {
	var changed []objstore.ObjectInfo
	present := make(map[string]bool, len(s.seen))
	cutoff := s.now().Add(-s.settle)
	opts := objstore.ListOptions{Prefix: s.prefix}
	for {
		page, err := s.store.List(ctx, s.bucket, opts)
		if err != nil {
			return nil, fmt.Errorf("scan %s/%s: %w", s.bucket, s.prefix, err)
		}
		for _, o := range page.Objects {
			present[o.Key] = true
			st := stamp{etag: o.ETag, size: o.Size, mtime: o.LastModified.UnixNano()}
			if old, ok := s.seen[o.Key]; ok && old == st {
				continue
			}
			if report && s.settle > 0 && o.LastModified.After(cutoff) {
				continue // still settling; look again next scan
			}
			s.seen[o.Key] = st
			if report {
				changed = append(changed, o)
			}
		}
		if page.NextContinuationToken == "" {
			break
		}
		opts.ContinuationToken = page.NextContinuationToken
	}
	for k := range s.seen {
		if !present[k] {
			delete(s.seen, k)
		}
	}
	return changed, nil
}
