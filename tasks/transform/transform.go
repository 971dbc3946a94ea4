// Package transform is the task that turns queued work items (pointers to a
// byte range of one bronze object version) into silver Parquet and
// quarantine files.
//
// Failure semantics (SQS partial batch responses, see "Handling errors for an
// SQS event source in Lambda" in the AWS Lambda developer guide):
//   - Bad records never fail a message: they are quarantined and the rest of
//     the chunk lands.
//   - A message whose object changed (ETag no longer matches, IfMatch
//     precondition failed) or disappeared is obsolete: it is logged and
//     dropped (reported as success). The new version raised its own event and
//     gets its own work items; retrying the old pointer can never succeed.
//   - A message whose body is not a work item is reported as failed, so after
//     maxReceiveCount receives it reaches the dead-letter queue where an
//     operator sees it, instead of vanishing.
//   - An infrastructure error (store read or write, temp disk, event bus) fails
//     only that message (batchItemFailures); its redelivery rewrites the same
//     deterministic keys, so nothing is duplicated.
package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/decode"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/internal/work"
)

// Message is one queue message, shaped like a record of Lambda's SQS event.
type Message struct {
	MessageID string `json:"messageId"`
	Body      string `json:"body"`
}

// Input is a batch of messages (the Lambda SQS event: {"Records": [...]}).
type Input struct {
	Records []Message `json:"Records"`
}

// FromQueue builds an Input from received queue messages.
func FromQueue(msgs []queue.Message) Input {
	in := Input{Records: make([]Message, len(msgs))}
	for i, m := range msgs {
		in.Records[i] = Message{MessageID: m.MessageID, Body: m.Body}
	}
	return in
}

// ItemFailure names a message to redeliver.
type ItemFailure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

// Partition counts what a batch wrote to one silver partition.
type Partition struct {
	RecordType string   `json:"record_type"`
	Dt         string   `json:"dt"`
	Rows       int64    `json:"rows"`
	Files      []string `json:"files"`
}

// Output is the partial batch response plus counts over the messages that
// succeeded. Records = Rows + Duplicates + Quarantined.
type Output struct {
	BatchItemFailures []ItemFailure `json:"batchItemFailures"`
	Messages          int           `json:"messages"`
	Obsolete          int           `json:"obsolete"`
	Records           int64         `json:"records"`
	Rows              int64         `json:"rows"`
	Duplicates        int64         `json:"duplicates"`
	Quarantined       int64         `json:"quarantined"`
	Files             int           `json:"files"`
	Partitions        []Partition   `json:"partitions"`
}

// Config tunes the handler.
type Config struct {
	// Bucket receives silver and quarantine; empty means the source bucket.
	Bucket string
	Layout silver.Layout
	// MaxLineBytes bounds one line or JSON element (default 1 MiB).
	MaxLineBytes int
	// TempDir holds files being built (default os.TempDir()).
	TempDir string
	// Concurrency is how many messages of a batch run at once (default
	// GOMAXPROCS).
	Concurrency int
}

// Handler is the transform task.
type Handler struct {
	store objstore.Store
	bus   bus.Bus
	reg   *records.Registry
	now   func() time.Time
	log   *slog.Logger
	cfg   Config
}

// New returns a handler. now and log may be nil (time.Now, slog.Default()).
func New(store objstore.Store, b bus.Bus, reg *records.Registry, now func() time.Time, log *slog.Logger, cfg Config) *Handler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = chunk.DefaultMaxLineBytes
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	return &Handler{store: store, bus: b, reg: reg, now: now, log: log, cfg: cfg}
}

// result is one message's outcome.
type result struct {
	failed   bool
	obsolete bool
	stats    silver.Stats
	written  []silver.Written
	bucket   string
}

// Handle transforms a batch. The error is non-nil only when the whole batch
// cannot be attempted (a cancelled context); per-message problems are in
// BatchItemFailures.
func (h *Handler) Handle(ctx context.Context, in Input) (Output, error) {
	results := make([]result, len(in.Records))
	sem := make(chan struct{}, h.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range in.Records {
		if ctx.Err() != nil {
			results[i].failed = true
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			results[i] = h.message(ctx, in.Records[i])
		}(i)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Output{}, fmt.Errorf("transform batch: %w", err)
	}

	// One PartitionReady event per partition written by the batch. If the
	// bus fails, the messages that wrote there are redelivered; their
	// rewrite is idempotent and the events are emitted again.
	parts := map[[3]string]*Partition{}
	contributors := map[[3]string][]int{}
	for i, r := range results {
		if r.failed || r.obsolete {
			continue
		}
		for _, w := range r.written {
			if w.Kind != "silver" {
				continue
			}
			k := [3]string{r.bucket, w.RecordType, w.Dt}
			p := parts[k]
			if p == nil {
				p = &Partition{RecordType: w.RecordType, Dt: w.Dt}
				parts[k] = p
			}
			p.Rows += w.Rows
			p.Files = append(p.Files, w.Key)
			contributors[k] = append(contributors[k], i)
		}
	}
	keys := make([][3]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a[0]+"\x00"+a[1]+"\x00"+a[2] < b[0]+"\x00"+b[1]+"\x00"+b[2]
	})
	for start := 0; start < len(keys); start += 10 { // PutEvents takes 10 entries
		batch := keys[start:min(start+10, len(keys))]
		events := make([]bus.Event, 0, len(batch))
		for _, k := range batch {
			p := parts[k]
			sort.Strings(p.Files)
			detail, _ := json.Marshal(bus.PartitionReady{
				Bucket: k[0], RecordType: p.RecordType, Dt: p.Dt,
				Prefix: h.cfg.Layout.PartitionPrefix(p.RecordType, p.Dt), Files: p.Files, Rows: p.Rows,
			})
			events = append(events, bus.Event{Source: bus.Source, DetailType: bus.DetailTypePartitionReady, Detail: detail, Time: h.now().UTC(),
				Resources: []string{"s3://" + k[0] + "/" + h.cfg.Layout.PartitionPrefix(p.RecordType, p.Dt)}})
		}
		if err := h.bus.Put(ctx, events); err != nil {
			h.log.Error("transform.event_failed", "err", err, "partitions", len(batch))
			for _, k := range batch {
				for _, i := range contributors[k] {
					results[i].failed = true
				}
			}
		}
	}

	out := Output{BatchItemFailures: []ItemFailure{}, Partitions: []Partition{}}
	for i, r := range results {
		if r.failed {
			out.BatchItemFailures = append(out.BatchItemFailures, ItemFailure{ItemIdentifier: in.Records[i].MessageID})
			continue
		}
		out.Messages++
		if r.obsolete {
			out.Obsolete++
			continue
		}
		out.Records += r.stats.Records + r.stats.Quarantined
		out.Rows += r.stats.Rows
		out.Duplicates += r.stats.Duplicates
		out.Quarantined += r.stats.Quarantined
		out.Files += len(r.written)
	}
	for _, k := range keys {
		ok := true
		for _, i := range contributors[k] {
			ok = ok && !results[i].failed
		}
		if ok {
			out.Partitions = append(out.Partitions, *parts[k])
		}
	}
	return out, nil
}

// message transforms one work item.
func (h *Handler) message(ctx context.Context, m Message) result {
	it, err := work.Decode(m.Body)
	if err != nil {
		h.log.Error("transform.bad_message", "message_id", m.MessageID, "err", err)
		return result{failed: true}
	}
	log := h.log.With("message_id", m.MessageID, "object", "s3://"+it.Bucket+"/"+it.Key, "etag", it.ETag, "chunk", it.Chunk)
	bucket := h.cfg.Bucket
	if bucket == "" {
		bucket = it.Bucket
	}
	stats, written, err := h.Transform(ctx, it, bucket)
	switch {
	case err == nil:
		log.Info("transform.done", "records", stats.Records+stats.Quarantined, "rows", stats.Rows,
			"duplicates", stats.Duplicates, "quarantined", stats.Quarantined, "files", len(written))
		return result{stats: stats, written: written, bucket: bucket}
	case errors.Is(err, ErrObsolete):
		log.Warn("transform.obsolete", "err", err)
		return result{obsolete: true}
	default:
		log.Error("transform.failed", "err", err)
		return result{failed: true}
	}
}

// ErrObsolete marks a work item whose object version is gone.
var ErrObsolete = errors.New("object version is gone")

// Transform processes one work item into bucket and returns what it wrote.
// It returns an error wrapping ErrObsolete when the object changed or
// disappeared, any other error for infrastructure failures.
func (h *Handler) Transform(ctx context.Context, it work.Item, bucket string) (silver.Stats, []silver.Written, error) {
	opts := &objstore.GetOptions{IfMatch: it.ETag}
	rng := it.Range
	// A JSONL chunk of a non-empty object is read from one byte before its
	// range to a bounded distance past its end: far enough to finish any line
	// that is not oversized anyway. Everything else is read whole.
	if it.Format != work.JSON && !it.Gzip && it.Size > 0 && rng.Length >= 0 && !(rng.Offset == 0 && rng.Length >= it.Size) {
		start := chunk.ReadStart(rng)
		end := min(rng.Offset+rng.Length+int64(h.cfg.MaxLineBytes)+2, it.Size)
		opts.Range = &objstore.Range{Offset: start, Length: end - start}
	} else {
		rng = objstore.Range{Offset: 0, Length: -1}
	}
	body, _, err := h.store.Get(ctx, it.Bucket, it.Key, opts)
	if err != nil {
		if fault.Is(err, fault.PreconditionFailed) || fault.Is(err, fault.NotFound) {
			return silver.Stats{}, nil, fmt.Errorf("%w: get s3://%s/%s#%s: %v", ErrObsolete, it.Bucket, it.Key, it.ETag, err)
		}
		return silver.Stats{}, nil, fmt.Errorf("get s3://%s/%s: %w", it.Bucket, it.Key, err)
	}
	defer body.Close()
	src := silver.Source{Bucket: it.Bucket, Key: it.Key, ETag: it.ETag, ContentETag: it.ContentETag, Chunk: it.Chunk, IngestedAt: it.IngestedAt}
	expect := 0
	if rng.Length > 0 {
		expect = int(rng.Length / 150) // typical event size; only presizes the dedupe table
	}
	cw := silver.NewChunkWriter(src, silver.Options{Bucket: bucket, Layout: h.cfg.Layout, TempDir: h.cfg.TempDir, ExpectedRecords: expect}, nil)
	defer cw.Abort()
	if err := Run(ctx, h.reg, body, decode.Options{Format: it.Format, Gzip: it.Gzip, Range: rng, MaxLineBytes: h.cfg.MaxLineBytes}, cw); err != nil {
		return silver.Stats{}, nil, fmt.Errorf("transform s3://%s/%s chunk %d: %w", it.Bucket, it.Key, it.Chunk, err)
	}
	written, err := cw.Commit(ctx, h.store)
	if err != nil {
		return silver.Stats{}, nil, fmt.Errorf("commit s3://%s/%s chunk %d: %w", it.Bucket, it.Key, it.Chunk, err)
	}
	// The receipt goes last, so it implies the outputs exist. If it fails
	// the message is redelivered and rewrites the same outputs.
	if err := h.writeReceipt(ctx, it, bucket, cw.Stats(), written); err != nil {
		return silver.Stats{}, nil, fmt.Errorf("receipt s3://%s/%s chunk %d: %w", it.Bucket, it.Key, it.Chunk, err)
	}
	return cw.Stats(), written, nil
}

// Run is the hot loop: decode, parse, and hand each record or bad input to
// the chunk writer. Only infrastructure errors are returned.
func Run(ctx context.Context, reg *records.Registry, r io.Reader, opts decode.Options, cw *silver.ChunkWriter) error {
	dec := decode.New(r, opts)
	p := reg.NewParser()
	var rec records.Record
	for n := 0; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		item, err := dec.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		pos := silver.Position{Offset: item.Offset, Line: item.Line, Index: item.Index}
		if item.Bad != nil {
			raw := item.Bad.Raw
			if err := cw.Quarantine(silver.Bad{Reason: item.Bad.Reason, Detail: item.Bad.Detail, Raw: raw,
				RawTruncated: item.Bad.Reason == records.Oversized}, pos); err != nil {
				return err
			}
			continue
		}
		if err := p.Parse(item.Data, &rec); err != nil {
			var inv *records.Invalid
			if !errors.As(err, &inv) {
				return err
			}
			if err := cw.Quarantine(silver.Bad{Reason: inv.Reason, Field: inv.Field, Detail: inv.Detail,
				RecordType: inv.RecordType, Dt: inv.Dt, Raw: item.Data}, pos); err != nil {
				return err
			}
			continue
		}
		if err := cw.Add(&rec, pos); err != nil {
			return err
		}
	}
}
