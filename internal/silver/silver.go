// Package silver writes the transform's output for one chunk of one bronze
// object: typed, snappy-compressed Parquet per record type and partition
// under silver/<type>/dt=<YYYY-MM-DD>/, and bad input as JSONL under
// quarantine/<type or _unknown>/dt=<dt or _unknown>/.
//
// Output names are a function of the source's content identity and chunk
// index only: part-<identity>-c<chunk>.parquet, where the identity is
// Source.ContentETag when set (a replay copy carries its original's, since
// S3 may give a copy a new ETag) and else the ETag. A redelivered message, a
// retried batch, or a replayed copy of the same object under another key
// rewrites the same keys instead of adding rows. Within a chunk,
// records with an event_id already seen are dropped (and counted).
//
// Files are built in temporary files (bounded memory whatever the chunk
// holds) and then put through objstore.Store, whose Put is atomic.
package silver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
)

// Source identifies the chunk being transformed (lineage).
type Source struct {
	Bucket string
	Key    string
	ETag   string
	// ContentETag is the content identity when it differs from ETag (a
	// replay copy: its original's ETag); output names use it. Lineage
	// columns keep the real ETag.
	ContentETag string
	Chunk       int
	IngestedAt  time.Time
}

// NameETag is the identity output names are built from: ContentETag when
// set, else ETag.
func (s Source) NameETag() string {
	if s.ContentETag != "" {
		return s.ContentETag
	}
	return s.ETag
}

// Object is the source object's URI, s3://bucket/key.
func (s Source) Object() string { return "s3://" + s.Bucket + "/" + s.Key }

// Position is where in the source a record or bad input was found.
type Position struct {
	Offset int64 // byte offset in the (decompressed) object
	Line   int   // 1-based line within the chunk (JSON Lines), else 0
	Index  int   // JSON array element index, -1 for JSON Lines
}

// Layout names output keys.
type Layout struct {
	SilverPrefix     string // default "silver/"
	QuarantinePrefix string // default "quarantine/"
}

func (l Layout) silver() string {
	if l.SilverPrefix == "" {
		return "silver/"
	}
	return l.SilverPrefix
}

func (l Layout) quarantine() string {
	if l.QuarantinePrefix == "" {
		return "quarantine/"
	}
	return l.QuarantinePrefix
}

// Unknown is the path segment for an undetermined record type or dt.
const Unknown = "_unknown"

// PartitionPrefix is the prefix of a silver partition.
func (l Layout) PartitionPrefix(recordType, dt string) string {
	return l.silver() + recordType + "/dt=" + dt + "/"
}

// fileName is the deterministic file name for a chunk's output.
func fileName(etag string, chunk int, ext string) string {
	return fmt.Sprintf("part-%s-c%05d.%s", safe(etag), chunk, ext)
}

// safe keeps an ETag usable in a key (S3 ETags are hex, or hex-N for
// multipart uploads; anything else is replaced).
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// SilverKey is the key of a chunk's Parquet file in a partition.
func (l Layout) SilverKey(recordType, dt, etag string, chunk int) string {
	return l.PartitionPrefix(recordType, dt) + fileName(etag, chunk, "parquet")
}

// QuarantineKey is the key of a chunk's quarantine file.
func (l Layout) QuarantineKey(recordType, dt, etag string, chunk int) string {
	return l.quarantine() + recordType + "/dt=" + dt + "/" + fileName(etag, chunk, "jsonl")
}

// Options configure a ChunkWriter.
type Options struct {
	Bucket string // where silver and quarantine are written
	Layout Layout
	// TempDir holds the files being built (default os.TempDir()).
	TempDir string
	// ExpectedRecords, when known, presizes the dedupe table.
	ExpectedRecords int
}

// Written is one output file.
type Written struct {
	Kind       string `json:"kind"` // "silver" or "quarantine"
	RecordType string `json:"record_type"`
	Dt         string `json:"dt"`
	Key        string `json:"key"`
	Rows       int64  `json:"rows"`
}

// Stats count what a chunk produced.
type Stats struct {
	Records     int64 `json:"records"` // good records accepted (before dedupe)
	Rows        int64 `json:"rows"`    // rows written to silver
	Duplicates  int64 `json:"duplicates"`
	Quarantined int64 `json:"quarantined"`
}

type partKey struct {
	typ *records.Type
	day int64
}

type partition struct {
	typ  *records.Type
	dt   string
	file *os.File
	rw   *rowWriter
}

type quarantineFile struct {
	recordType, dt string
	file           *os.File
	bw             *bufio.Writer
	rows           int64
}

// ChunkWriter collects one chunk's records and bad input, then commits them.
// It is not safe for concurrent use.
type ChunkWriter struct {
	opts    Options
	src     Source
	schemas map[*records.Type]*parquet.Schema
	parts   map[partKey]*partition
	quar    map[[2]string]*quarantineFile
	seen    *idSet
	// pending is the last record added with an event_id: its row is
	// already in its partition's batch, but whether its id was seen before
	// is decided by the next Add (or Commit), so that the dedupe table's
	// slot, prefetched meanwhile, is in cache by then. A duplicate's row
	// is then taken back out (rowWriter.dropLast).
	pending pendingID
	stats   Stats
	closed  bool
	err     error
	entry   quarantineEntry
}

type pendingID struct {
	ok   bool
	id   string
	hash uint64
	part *partition
}

// SchemaCache shares built Parquet schemas between chunk writers.
type SchemaCache map[*records.Type]*parquet.Schema

// NewChunkWriter starts the output of one chunk. schemas may be shared
// between sequential writers (not concurrently); nil makes a private cache.
func NewChunkWriter(src Source, opts Options, schemas SchemaCache) *ChunkWriter {
	if schemas == nil {
		schemas = SchemaCache{}
	}
	return &ChunkWriter{
		opts: opts, src: src, schemas: schemas,
		parts: map[partKey]*partition{},
		quar:  map[[2]string]*quarantineFile{},
		seen:  newIDSet(opts.ExpectedRecords),
	}
}

// Add writes one valid record. A record whose event_id was already seen in
// this chunk is dropped and counted as a duplicate.
func (c *ChunkWriter) Add(rec *records.Record, pos Position) error {
	if c.err != nil {
		return c.err
	}
	c.resolvePending()
	c.stats.Records++
	k := partKey{typ: rec.Type, day: rec.Day()}
	p := c.parts[k]
	if p == nil {
		var err error
		if p, err = c.openPartition(rec); err != nil {
			c.err = err
			return err
		}
		c.parts[k] = p
	}
	if err := p.rw.write(rec, pos); err != nil {
		c.err = fmt.Errorf("silver %s dt=%s: %w", p.typ.Name, p.dt, err)
		return c.err
	}
	c.stats.Rows++
	if rec.EventID != "" {
		h := c.seen.hash(rec.EventID)
		c.seen.prefetch(h)
		c.pending = pendingID{ok: true, id: rec.EventID, hash: h, part: p}
	}
	return nil
}

// resolvePending finishes the dedupe of the pending record: a duplicate's
// row (still the last of its partition's batch) is removed.
func (c *ChunkWriter) resolvePending() {
	if !c.pending.ok {
		return
	}
	pd := c.pending
	c.pending = pendingID{}
	if c.seen.addHashed(pd.id, pd.hash) {
		pd.part.rw.dropLast()
		c.stats.Rows--
		c.stats.Duplicates++
	}
}

func (c *ChunkWriter) openPartition(rec *records.Record) (*partition, error) {
	schema := c.schemas[rec.Type]
	if schema == nil {
		schema = schemaFor(rec.Type)
		c.schemas[rec.Type] = schema
	}
	f, err := os.CreateTemp(c.opts.TempDir, "elt-silver-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("create temp file for silver: %w", err)
	}
	return &partition{typ: rec.Type, dt: rec.Dt(), file: f, rw: newRowWriter(f, rec.Type, schema, c.src)}, nil
}

// quarantineEntry is one line of a quarantine file.
type quarantineEntry struct {
	Reason     records.Reason `json:"reason"`
	Field      string         `json:"field,omitempty"`
	Detail     string         `json:"detail"`
	RecordType string         `json:"record_type"`
	Dt         string         `json:"dt"`
	Source     sourceLocation `json:"source"`
	// Raw is the input text (a bounded prefix for oversized input).
	Raw          string    `json:"raw"`
	RawTruncated bool      `json:"raw_truncated,omitempty"`
	IngestedAt   time.Time `json:"ingested_at"`
}

type sourceLocation struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag"`
	Chunk  int    `json:"chunk"`
	Offset int64  `json:"offset"`
	Line   int    `json:"line,omitempty"`
	Index  *int   `json:"index,omitempty"`
}

// Bad is bad input to quarantine.
type Bad struct {
	Reason     records.Reason
	Field      string
	Detail     string
	RecordType string // "" when unknown
	Dt         string // "" when unknown
	Raw        []byte
	// RawTruncated says Raw is only a prefix of the input.
	RawTruncated bool
}

// MaxRawBytes bounds the raw text kept per quarantined input.
const MaxRawBytes = 64 << 10

// Quarantine keeps one piece of bad input with its reason and location.
func (c *ChunkWriter) Quarantine(b Bad, pos Position) error {
	if c.err != nil {
		return c.err
	}
	rt, dt := b.RecordType, b.Dt
	if rt == "" {
		rt = Unknown
	}
	if dt == "" {
		dt = Unknown
	}
	k := [2]string{rt, dt}
	q := c.quar[k]
	if q == nil {
		f, err := os.CreateTemp(c.opts.TempDir, "elt-quarantine-*.jsonl")
		if err != nil {
			c.err = fmt.Errorf("create temp file for quarantine: %w", err)
			return c.err
		}
		q = &quarantineFile{recordType: rt, dt: dt, file: f, bw: bufio.NewWriter(f)}
		c.quar[k] = q
	}
	raw := b.Raw
	if len(raw) > MaxRawBytes {
		raw, b.RawTruncated = raw[:MaxRawBytes], true
	}
	e := &c.entry
	*e = quarantineEntry{
		Reason: b.Reason, Field: b.Field, Detail: b.Detail, RecordType: rt, Dt: dt,
		Source: sourceLocation{Bucket: c.src.Bucket, Key: c.src.Key, ETag: c.src.ETag, Chunk: c.src.Chunk,
			Offset: pos.Offset, Line: pos.Line},
		Raw: string(raw), RawTruncated: b.RawTruncated, IngestedAt: c.src.IngestedAt.UTC(),
	}
	if pos.Index >= 0 {
		idx := pos.Index
		e.Source.Index = &idx
	}
	line, err := json.Marshal(e)
	if err == nil {
		line = append(line, '\n')
		_, err = q.bw.Write(line)
	}
	if err != nil {
		c.err = fmt.Errorf("write quarantine: %w", err)
		return c.err
	}
	q.rows++
	c.stats.Quarantined++
	return nil
}

// Stats returns the counts so far.
func (c *ChunkWriter) Stats() Stats {
	if c.err == nil {
		c.resolvePending()
	}
	return c.stats
}

// Commit finishes every file and puts it into the store; it returns the
// files written in a stable order (silver by type and dt, then quarantine).
// The temp files are removed whatever happens.
func (c *ChunkWriter) Commit(ctx context.Context, store objstore.Store) ([]Written, error) {
	defer c.Abort()
	if c.err != nil {
		return nil, c.err
	}
	c.resolvePending()
	parts := make([]*partition, 0, len(c.parts))
	for _, p := range c.parts {
		if p.rw.rows() == 0 {
			continue // its only rows were duplicates: no file, as if never opened
		}
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].typ.Name != parts[j].typ.Name {
			return parts[i].typ.Name < parts[j].typ.Name
		}
		return parts[i].dt < parts[j].dt
	})
	var out []Written
	for _, p := range parts {
		if err := p.rw.close(); err != nil {
			return out, fmt.Errorf("silver %s dt=%s: %w", p.typ.Name, p.dt, err)
		}
		key := c.opts.Layout.SilverKey(p.typ.Name, p.dt, c.src.NameETag(), c.src.Chunk)
		if err := put(ctx, store, c.opts.Bucket, key, p.file, "application/vnd.apache.parquet"); err != nil {
			return out, err
		}
		out = append(out, Written{Kind: "silver", RecordType: p.typ.Name, Dt: p.dt, Key: key, Rows: p.rw.written})
	}
	qs := make([]*quarantineFile, 0, len(c.quar))
	for _, q := range c.quar {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].recordType != qs[j].recordType {
			return qs[i].recordType < qs[j].recordType
		}
		return qs[i].dt < qs[j].dt
	})
	for _, q := range qs {
		if err := q.bw.Flush(); err != nil {
			return out, fmt.Errorf("quarantine %s dt=%s: %w", q.recordType, q.dt, err)
		}
		key := c.opts.Layout.QuarantineKey(q.recordType, q.dt, c.src.NameETag(), c.src.Chunk)
		if err := put(ctx, store, c.opts.Bucket, key, q.file, "application/x-ndjson"); err != nil {
			return out, err
		}
		out = append(out, Written{Kind: "quarantine", RecordType: q.recordType, Dt: q.dt, Key: key, Rows: q.rows})
	}
	return out, nil
}

func put(ctx context.Context, store objstore.Store, bucket, key string, f *os.File, contentType string) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", f.Name(), err)
	}
	if _, err := store.Put(ctx, bucket, key, f, &objstore.PutOptions{ContentType: contentType}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Abort discards everything not yet committed (removes the temp files).
func (c *ChunkWriter) Abort() {
	if c.closed {
		return
	}
	c.closed = true
	var errs []error
	for _, p := range c.parts {
		errs = append(errs, p.file.Close(), os.Remove(p.file.Name()))
	}
	for _, q := range c.quar {
		errs = append(errs, q.file.Close(), os.Remove(q.file.Name()))
	}
	_ = errors.Join(errs...) // best effort: temp files only
	if c.err == nil {
		c.err = errors.New("silver: chunk writer closed")
	}
	// Nothing reads the dedupe set once closed (Add and Stats check c.err).
	c.pending = pendingID{}
	c.seen.release()
	c.seen = nil
}
