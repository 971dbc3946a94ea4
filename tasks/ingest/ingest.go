// Package ingest is the task that turns S3 ObjectCreated notifications into
// work items on the queue. For each object version it claims
// s3://bucket/key#etag in the ledger (so duplicate notifications do nothing),
// reads the object's size, ETag and content identity (a replay copy's
// elt-content-etag metadata, see work.ContentETagOf) with a HEAD (never the
// data), plans bounded chunks, and sends one pointer message per chunk.
// The claim stays per key and ETag (an object version); the content
// identity only names the outputs, so a copy with a new ETag rewrites its
// original's silver files. The metadata is trusted only under
// Config.CopyPrefixes (where only replay may write); on any other object it
// is logged and ignored, so a writer of bronze cannot name its rows after
// another object and overwrite that object's silver files.
//
// Version semantics: the event names an object version by its ETag. If the
// object's current ETag differs (it was overwritten after the event) or it is
// gone, that version can no longer be read from an unversioned bucket; ingest
// marks the event's claim done and counts it as superseded. The overwrite
// raised its own ObjectCreated event, which claims the new ETag and ingests
// it. Transform pins the ETag too (IfMatch), so an overwrite between ingest
// and transform cannot mix versions. Buckets are unversioned, as in the
// original project, so the event's versionId is not used.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/work"
)

// Defaults for Config.
const (
	DefaultChunkBytes   = 64 << 20
	DefaultLease        = 15 * time.Minute // the longest a Lambda invocation can run
	DefaultDoneTTL      = 7 * 24 * time.Hour
	DefaultSendAttempts = 5
	DefaultBackoff      = 100 * time.Millisecond
	DefaultMaxBackoff   = 5 * time.Second
	// MaxBatch is the SQS SendMessageBatch limit.
	MaxBatch = 10
)

// Config tunes the handler. Zero values take the defaults above.
type Config struct {
	// ChunkBytes bounds the byte range of one JSONL work item.
	ChunkBytes int64
	// Lease is how long a claim protects an object from other workers; a
	// crashed worker's claim expires after it and the object is retried.
	Lease time.Duration
	// DoneTTL is how long a finished claim suppresses duplicate events.
	DoneTTL time.Duration
	// SendAttempts bounds the attempts per SendBatch entry.
	SendAttempts int
	// Backoff is the first retry delay; it doubles up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Owner names this worker in the ledger (default "ingest"); on Lambda
	// the invocation's request id is appended.
	Owner string
	// CopyPrefixes are the key prefixes that hold replay copies: only
	// objects under them may carry a content identity in metadata (only
	// replay can write there). nil means work.DefaultCopyPrefixes("bronze/"),
	// i.e. bronze/replay/; an empty non-nil list trusts no metadata.
	CopyPrefixes []string
}

func (c Config) withDefaults() Config {
	if c.ChunkBytes <= 0 {
		c.ChunkBytes = DefaultChunkBytes
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.DoneTTL <= 0 {
		c.DoneTTL = DefaultDoneTTL
	}
	if c.SendAttempts <= 0 {
		c.SendAttempts = DefaultSendAttempts
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Owner == "" {
		c.Owner = "ingest"
	}
	if c.CopyPrefixes == nil {
		c.CopyPrefixes = work.DefaultCopyPrefixes("bronze/")
	}
	return c
}

// Planner splits an object of size bytes into byte ranges of about
// chunkBytes that together cover it (chunk.Plan).
type Planner func(size, chunkBytes int64) []objstore.Range

// Deps are what the handler talks to.
type Deps struct {
	Store  objstore.Store
	Queue  queue.Queue
	Ledger ledger.Ledger
	Plan   Planner
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sleep waits between send retries (a context-aware time.Sleep when nil).
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives one line per decision (slog.Default when nil).
	Log *slog.Logger
}

// Output counts what one event did.
type Output struct {
	// Objects is the number of ObjectCreated records in the event.
	Objects int `json:"objects"`
	// Claimed objects were planned and queued by this invocation.
	Claimed int `json:"claimed"`
	// Skipped objects were already done (a duplicate event).
	Skipped int `json:"skipped"`
	// Superseded objects changed or disappeared after the event.
	Superseded int `json:"superseded"`
	// Ignored records were not ObjectCreated or could not be read.
	Ignored int `json:"ignored"`
	// Messages is the number of work items sent.
	Messages int `json:"messages"`
}

// Add sums outputs (the embedded stack totals several invocations).
func (o *Output) Add(p Output) {
	o.Objects += p.Objects
	o.Claimed += p.Claimed
	o.Skipped += p.Skipped
	o.Superseded += p.Superseded
	o.Ignored += p.Ignored
	o.Messages += p.Messages
}

// ClaimHeld is returned when another worker holds an unexpired claim on an
// object version; the event should be retried later. The type name is the
// error name Lambda reports (and workflows match).
type ClaimHeld struct{ Key string }

func (e *ClaimHeld) Error() string { return "claim held by another worker: " + e.Key }

// SendFailed is returned when work items could not be queued after the
// bounded retries; the claim is released so a retried event starts over.
type SendFailed struct {
	Key    string
	Failed int
	Last   string
}

func (e *SendFailed) Error() string {
	return fmt.Sprintf("send work items for %s: %d entries failed (last: %s)", e.Key, e.Failed, e.Last)
}

// Handler is the ingest task.
type Handler struct {
	cfg  Config
	deps Deps
}

// New checks the dependencies and fills defaults.
func New(cfg Config, deps Deps) (*Handler, error) {
	if deps.Store == nil || deps.Queue == nil || deps.Ledger == nil || deps.Plan == nil {
		return nil, errors.New("ingest: store, queue, ledger and planner are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Sleep == nil {
		deps.Sleep = sleepCtx
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	return &Handler{cfg: cfg.withDefaults(), deps: deps}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Handle ingests every ObjectCreated record of an event. Records are
// independent: a failure on one does not stop the others, and the returned
// error (all failures joined) makes the whole event retry, which is a no-op
// for the records already done.
func (h *Handler) Handle(ctx context.Context, ev events.S3Event) (Output, error) {
	objs, skips := Objects(ev)
	out := Output{Objects: len(objs), Ignored: len(skips)}
	for _, s := range skips {
		h.deps.Log.Info("ingest.ignored", "record", s.Index, "reason", s.Reason)
	}
	var errs []error
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		res, n, err := h.object(ctx, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch res {
		case resultClaimed:
			out.Claimed++
			out.Messages += n
		case resultSkipped:
			out.Skipped++
		case resultSuperseded:
			out.Superseded++
		}
	}
	return out, errors.Join(errs...)
}

type result int

const (
	resultClaimed result = iota + 1
	resultSkipped
	resultSuperseded
)

func (h *Handler) object(ctx context.Context, o Object) (result, int, error) {
	log := h.deps.Log.With("bucket", o.Bucket, "key", o.Key)
	etag := o.ETag
	var head *objstore.ObjectInfo
	if etag == "" {
		// An event without an ETag (built by hand): the current version is
		// the one to ingest.
		info, err := h.deps.Store.Head(ctx, o.Bucket, o.Key)
		if fault.Is(err, fault.NotFound) {
			log.Info("ingest.superseded", "reason", "object is gone")
			return resultSuperseded, 0, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("head s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
		etag = NormalizeETag(info.ETag)
		head = &info
	}
	ck := ClaimKey(o.Bucket, o.Key, etag)
	owner := h.owner(ctx)
	outcome, err := h.deps.Ledger.Claim(ctx, ck, owner, h.cfg.Lease)
	if err != nil {
		return 0, 0, fmt.Errorf("claim %s: %w", ck, err)
	}
	switch outcome {
	case ledger.Done:
		log.Info("ingest.skipped", "claim", ck)
		return resultSkipped, 0, nil
	case ledger.Held:
		return 0, 0, &ClaimHeld{Key: ck}
	case ledger.Claimed:
	default:
		return 0, 0, fmt.Errorf("claim %s: unexpected outcome %v", ck, outcome)
	}
	log.Info("ingest.claimed", "claim", ck)

	res, n, err := h.claimed(ctx, o, etag, head, ck)
	if err != nil {
		// Give the object back so a retried event starts over at once
		// rather than after the lease. A failed release is harmless: the
		// lease expires.
		if rerr := h.deps.Ledger.Release(context.WithoutCancel(ctx), ck, owner); rerr != nil {
			log.Warn("ingest.release_failed", "claim", ck, "err", rerr)
		}
		return 0, 0, err
	}
	if err := h.deps.Ledger.Complete(ctx, ck, owner, h.cfg.DoneTTL); err != nil {
		// The items are queued; transform is idempotent, so a retried event
		// that sends them again only overwrites the same outputs.
		return 0, 0, fmt.Errorf("complete %s: %w", ck, err)
	}
	return res, n, nil
}

// owner names the claimant. On Lambda each invocation is its own claimant
// (the request id), so two concurrent invocations for duplicate events do
// not renew each other's lease: the second gets Held and retries.
func (h *Handler) owner(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return h.cfg.Owner + "/" + lc.AwsRequestID
	}
	return h.cfg.Owner
}

func (h *Handler) claimed(ctx context.Context, o Object, etag string, head *objstore.ObjectInfo, ck string) (result, int, error) {
	if head == nil {
		info, err := h.deps.Store.Head(ctx, o.Bucket, o.Key)
		if fault.Is(err, fault.NotFound) {
			h.deps.Log.Info("ingest.superseded", "claim", ck, "reason", "object is gone")
			return resultSuperseded, 0, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("head s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
		head = &info
	}
	if got := NormalizeETag(head.ETag); got != etag {
		h.deps.Log.Info("ingest.superseded", "claim", ck, "reason", "object changed", "current_etag", got)
		return resultSuperseded, 0, nil
	}
	// The content identity comes from the same HEAD: a replay copy carries
	// its original's ETag in metadata (the event has no user metadata).
	// Only copies under CopyPrefixes are believed.
	content, ignored := work.ContentETagUnder(h.cfg.CopyPrefixes, o.Key, *head)
	if ignored {
		h.deps.Log.Warn("ingest.content_etag_ignored", "bucket", o.Bucket, "key", o.Key, "claim", ck,
			"metadata", work.ContentETagMeta, "value", head.Metadata[work.ContentETagMeta], "copy_prefixes", h.cfg.CopyPrefixes)
	}
	items := h.plan(o.Bucket, o.Key, etag, content, head.Size)
	if err := h.send(ctx, ck, items); err != nil {
		return 0, 0, err
	}
	if content != etag {
		h.deps.Log.Info("ingest.queued", "claim", ck, "size", head.Size, "messages", len(items), "content_etag", content)
	} else {
		h.deps.Log.Info("ingest.queued", "claim", ck, "size", head.Size, "messages", len(items))
	}
	return resultClaimed, len(items), nil
}

// FormatOf tells how an object is encoded from its key: a ".gz" suffix means
// gzip (read whole), ".json" (before any ".gz") a JSON document read whole,
// anything else JSONL.
func FormatOf(key string) (work.Format, bool) {
	k := strings.ToLower(key)
	gz := strings.HasSuffix(k, ".gz")
	k = strings.TrimSuffix(k, ".gz")
	if strings.HasSuffix(k, ".json") {
		return work.JSON, gz
	}
	return work.JSONL, gz
}

// plan splits the object version bucket/key#etag into work items; content
// is its content identity (work.ContentETagOf), recorded when it differs.
func (h *Handler) plan(bucket, key, etag, content string, size int64) []work.Item {
	format, gz := FormatOf(key)
	now := h.deps.Now().UTC()
	base := work.Item{Bucket: bucket, Key: key, ETag: etag, Size: size, Format: format, Gzip: gz, IngestedAt: now}
	if content != etag {
		base.ContentETag = content
	}
	var ranges []objstore.Range
	if format == work.JSONL && !gz {
		ranges = h.deps.Plan(size, h.cfg.ChunkBytes)
	}
	if len(ranges) == 0 {
		// Whole object: JSON documents and gzip cannot be split, and an
		// empty object still gets one item so its (zero) records are
		// accounted for by transform.
		ranges = []objstore.Range{{Offset: 0, Length: -1}}
	}
	items := make([]work.Item, len(ranges))
	for i, r := range ranges {
		it := base
		it.Range, it.Chunk, it.Chunks = r, i, len(ranges)
		items[i] = it
	}
	return items
}

// send queues items in batches of MaxBatch, retrying failed entries (and
// failed calls) with exponential backoff, up to SendAttempts per entry.
// Entries a queue reports as the sender's fault are not retried.
func (h *Handler) send(ctx context.Context, ck string, items []work.Item) error {
	for start := 0; start < len(items); start += MaxBatch {
		end := min(start+MaxBatch, len(items))
		pending := make([]queue.SendEntry, 0, end-start)
		for _, it := range items[start:end] {
			body, err := it.Encode()
			if err != nil {
				return err
			}
			pending = append(pending, queue.SendEntry{ID: "c" + strconv.Itoa(it.Chunk), Body: body})
		}
		delay := h.cfg.Backoff
		var last string
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > 1 {
				if err := h.deps.Sleep(ctx, delay); err != nil {
					return fmt.Errorf("send work items for %s: %w", ck, err)
				}
				delay = min(delay*2, h.cfg.MaxBackoff)
			}
			failures, err := h.deps.Queue.SendBatch(ctx, pending)
			if err != nil {
				last = err.Error()
				if fault.Is(err, fault.Canceled) || ctx.Err() != nil {
					return fmt.Errorf("send work items for %s: %w", ck, err)
				}
				h.deps.Log.Warn("ingest.send_retry", "claim", ck, "attempt", attempt, "entries", len(pending), "err", err)
			} else {
				pending, last, err = retryable(pending, failures)
				if err != nil {
					return fmt.Errorf("send work items for %s: %w", ck, err)
				}
				if len(pending) > 0 {
					h.deps.Log.Warn("ingest.send_retry", "claim", ck, "attempt", attempt, "entries", len(pending), "last", last)
				}
			}
			if len(pending) > 0 && attempt >= h.cfg.SendAttempts {
				return &SendFailed{Key: ck, Failed: len(pending), Last: last}
			}
		}
	}
	return nil
}

// retryable keeps the entries that failed; a sender-fault failure (the entry
// itself is refused) cannot succeed on retry and is an error at once.
func retryable(sent []queue.SendEntry, failures []queue.SendFailure) ([]queue.SendEntry, string, error) {
	if len(failures) == 0 {
		return nil, "", nil
	}
	failed := make(map[string]queue.SendFailure, len(failures))
	for _, f := range failures {
		failed[f.ID] = f
	}
	var again []queue.SendEntry
	var last string
	for _, e := range sent {
		f, ok := failed[e.ID]
		if !ok {
			continue
		}
		last = f.Code + ": " + f.Message
		if f.SenderFault {
			return nil, last, fmt.Errorf("entry %s refused: %s", e.ID, last)
		}
		again = append(again, e)
	}
	return again, last, nil
}
