package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	bolt "go.etcd.io/bbolt"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/tasks/ingest"
)

// Notifier plays S3's event notifications on the embedded stack: it scans
// the bronze prefix, and for every object whose ETag or LastModified differs
// from what it last delivered it invokes ingest with an S3-shaped
// ObjectCreated:Put event. Objects written through the stack (elt bronze add)
// and files dropped into the folder by hand are found the same way.
//
// An object is recorded as delivered (in <data-dir>/notified.db) only after
// ingest returns without error, so a failed or interrupted ingest is
// delivered again on the next scan, like S3's retried asynchronous
// invocation. A restart between ingest and the record delivers the event
// twice, which the ingest ledger turns into a no-op (S3 is at-least-once too).
type Notifier struct {
	// settle holds back an object modified less than this long ago: a file
	// being copied in by hand is not atomic, and ingesting its first half
	// would land a partial version next to the full one.
	settle time.Duration
	store  objstore.Store
	bucket string
	prefix string
	db     *bolt.DB
	ingest IngestFunc
	now    func() time.Time
	log    *slog.Logger
}

// IngestFunc is the ingest task as the notifier invokes it.
type IngestFunc func(ctx context.Context, ev events.S3Event) (ingest.Output, error)

var deliveredBucket = []byte("delivered")

// OpenNotifier opens (or creates) the notifier's state in dir.
func OpenNotifier(dir string, store objstore.Store, bucket, prefix string, fn IngestFunc, now func() time.Time, log *slog.Logger) (*Notifier, error) {
	path := filepath.Join(dir, "notified.db")
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open notifier state %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(deliveredBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init notifier state %s: %w", path, err)
	}
	return &Notifier{store: store, bucket: bucket, prefix: prefix, db: db, ingest: fn, now: now, log: log}, nil
}

// Close releases the state file.
func (n *Notifier) Close() error { return n.db.Close() }

// stamp is what identifies one delivered version of a key.
func stamp(o objstore.ObjectInfo) string {
	return o.ETag + "|" + strconv.FormatInt(o.Size, 10) + "|" + strconv.FormatInt(o.LastModified.UnixNano(), 10)
}

// ScanResult counts one scan.
type ScanResult struct {
	Delivered int           // events ingest accepted
	Failed    int           // events ingest failed (delivered again next scan)
	Settling  int           // new or changed objects still inside the settle time
	Ingest    ingest.Output // what ingest reported for the delivered events
}

// Scan delivers an event for each new or changed object under the prefix.
// It returns the first listing error; ingest errors are counted, logged and
// retried on the next scan.
func (n *Notifier) Scan(ctx context.Context) (ScanResult, error) {
	var res ScanResult
	var pending []objstore.ObjectInfo
	now := n.now()
	cutoff, skew := now.Add(-n.settle), now.Add(n.settle)
	err := n.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(deliveredBucket)
		opts := objstore.ListOptions{Prefix: n.prefix}
		for {
			page, err := n.store.List(ctx, n.bucket, opts)
			if err != nil {
				return fmt.Errorf("scan s3://%s/%s: %w", n.bucket, n.prefix, err)
			}
			for _, o := range page.Objects {
				if string(b.Get([]byte(o.Key))) == stamp(o) {
					continue
				}
				// (A LastModified far in the future is clock skew, not a
				// write in progress: it would never settle.)
				if n.settle > 0 && o.LastModified.After(cutoff) && !o.LastModified.After(skew) {
					res.Settling++
					continue
				}
				pending = append(pending, o)
			}
			if page.NextContinuationToken == "" {
				return nil
			}
			opts.ContinuationToken = page.NextContinuationToken
		}
	})
	if err != nil {
		return res, err
	}
	for _, o := range pending {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		out, err := n.ingest(ctx, n.event(o))
		res.Ingest.Add(out)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Failed++
			n.log.Warn("notify.ingest_failed", "bucket", n.bucket, "key", o.Key, "err", err)
			continue
		}
		if err := n.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(deliveredBucket).Put([]byte(o.Key), []byte(stamp(o)))
		}); err != nil {
			return res, fmt.Errorf("record delivery of %s: %w", o.Key, err)
		}
		res.Delivered++
	}
	return res, nil
}

// event builds the notification S3 would send for a PUT of o
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
func (n *Notifier) event(o objstore.ObjectInfo) events.S3Event {
	var r events.S3EventRecord
	r.EventVersion = "2.1"
	r.EventSource = "aws:s3"
	r.AWSRegion = "local"
	r.EventTime = n.now().UTC()
	r.EventName = "ObjectCreated:Put"
	r.S3.SchemaVersion = "1.0"
	r.S3.ConfigurationID = "elt-embedded-bronze"
	r.S3.Bucket.Name = n.bucket
	r.S3.Bucket.Arn = "arn:aws:s3:::" + n.bucket
	r.S3.Object.Key = ingest.EncodeKey(o.Key)
	r.S3.Object.URLDecodedKey = o.Key
	r.S3.Object.Size = o.Size
	r.S3.Object.ETag = o.ETag
	r.S3.Object.Sequencer = strconv.FormatInt(o.LastModified.UnixNano(), 16)
	return events.S3Event{Records: []events.S3EventRecord{r}}
}
