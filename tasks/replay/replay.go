// Package replay is the task that re-feeds a window of bronze objects to the
// normal path: it copies every object under a source prefix whose
// LastModified is in [start, end) to <dest_prefix>/<key relative to the
// bronze prefix>, where dest_prefix is <dest_prefix_base>/<execution name>
// and stays under the bronze prefix ingest watches, so ingest claims the
// copies (new keys) and transform rewrites the same silver files, so no
// row lands twice.
//
// Silver files are named by the source's content identity, not by the
// copy's ETag: S3 gives the copy of a multipart-uploaded object a new ETag,
// and in an SSE-KMS bucket every copy gets one.
// So every copy carries user metadata elt-content-etag (work.ContentETagMeta)
// = the source's content identity (its own elt-content-etag if it has one
// and lies under Config.TrustedPrefixes, else its ETag), which ingest reads
// with its HEAD (and believes only under the same prefixes). The copy is pinned to
// the source version that identity was read from (IfMatch), and keeps the
// source's other metadata.
//
// It runs two ways:
//   - as the batch task of a distributed Map over an s3:listObjectsV2
//     ItemReader (Input.Items are the listed objects, Input.BatchInput the
//     request), which scales to any window;
//   - directly (no Items): it lists src_prefix itself, page by page.
//
// Either way it is safe to retry: destination keys are a function of the
// execution name and the source key only (a retry overwrites), the window
// is computed from the execution's start time passed in (not the clock), and
// it never copies earlier replay copies (anything under dest_prefix_base or
// one of Config.CopyPrefixes). Each call writes the list of copies it made to
// ops/replay/<execution name>/copies-<batch id>.json in the silver bucket,
// for the silver poll to check, and returns counts only.
package replay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/work"
)

// Error names (ASL) of the task.
const (
	ErrInvalidInput     = "Replay.InvalidInput"
	ErrStoreUnavailable = "Replay.StoreUnavailable"
)

// CopyListPrefix is where copy lists go in the silver bucket:
// ops/replay/<execution name>/copies-<batch id>.json.
const CopyListPrefix = "ops/replay/"

// CopyListDir is the prefix of one execution's copy lists.
func CopyListDir(executionName string) string {
	return CopyListPrefix + executionName + "/"
}

// Request says what to replay (the ops workflow's input has these fields).
type Request struct {
	BronzeBucket   string `json:"bronze_bucket"`
	SrcPrefix      string `json:"src_prefix"`
	DestPrefixBase string `json:"dest_prefix_base"`
	// ExecutionName names the replay: copies go under
	// <dest_prefix_base>/<execution_name>/ and lists under
	// ops/replay/<execution_name>/.
	ExecutionName string `json:"execution_name"`
	// ExecutionStart (RFC 3339) anchors window_hours: the window is
	// [ExecutionStart - window_hours, ExecutionStart), the same on every
	// retry.
	ExecutionStart string `json:"execution_start,omitempty"`
	WindowHours    *int   `json:"window_hours,omitempty"`
	Start          string `json:"start,omitempty"`
	End            string `json:"end,omitempty"`
	// SilverBucket receives the copy list.
	SilverBucket string `json:"silver_bucket"`
}

// Item is one listed object as a distributed Map's s3:listObjectsV2
// ItemReader yields it ("ItemReader (Map)" in the Step Functions developer
// guide: {"Etag": "\"<md5>\"", "Key", "LastModified": <epoch seconds>,
// "Size", "StorageClass"}).
type Item struct {
	Key          string    `json:"Key"`
	Etag         string    `json:"Etag"`
	LastModified Timestamp `json:"LastModified"`
	Size         int64     `json:"Size"`
}

// Timestamp is a LastModified: epoch seconds (what the ItemReader yields)
// or an RFC 3339 string.
type Timestamp struct{ time.Time }

// UnmarshalJSON accepts a number of epoch seconds or an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return fmt.Errorf("LastModified %q: %w", str, err)
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e11 { // 1e11 s is year 5138
		return fmt.Errorf("LastModified %s: not epoch seconds", s)
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// MarshalJSON writes epoch seconds, like the ItemReader.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatInt(t.Unix(), 10)), nil
}

// BatchInput is what the ops workflow's ItemBatcher adds to every batch:
// the workflow input as the request, and the execution's name and start
// time (the Map's children are executions of their own, so the workflow
// passes its own).
type BatchInput struct {
	Request        Request `json:"request"`
	ExecutionName  string  `json:"execution_name,omitempty"`
	ExecutionStart string  `json:"execution_start,omitempty"`
}

// Input is a Map batch ({"BatchInput", "Items"}) or, without BatchInput, a
// direct request (the Request fields at the top level; the task lists).
type Input struct {
	BatchInput *BatchInput `json:"BatchInput,omitempty"`
	Items      []Item      `json:"Items,omitempty"`
	Request
}

// Copy is one copy made.
type Copy struct {
	DestKey string `json:"dest_key"`
	ETag    string `json:"etag"` // the copy's ETag, which its receipts carry
	// ContentETag is the content identity the copy carries (metadata
	// elt-content-etag): its receipts are under _receipts/<content_etag>/.
	// Absent in lists written before it existed (then it is ETag).
	ContentETag string `json:"content_etag,omitempty"`
	SourceKey   string `json:"source_key"`
	// SourceETag is the ETag of the source version copied. It differs from
	// ETag when S3 gave the copy a new one (a multipart-uploaded source
	// copied in one CopyObject); the content identity keeps the copy's
	// silver files on the source's names (see Output.ETagChanged).
	SourceETag string `json:"source_etag"`
	Size       int64  `json:"size"`
}

// Identity is the content identity the copy's receipts are keyed by.
func (c Copy) Identity() string {
	if c.ContentETag != "" {
		return c.ContentETag
	}
	return c.ETag
}

// CopyList is the document written per call.
type CopyList struct {
	ExecutionName string    `json:"execution_name"`
	BatchID       string    `json:"batch_id"`
	BronzeBucket  string    `json:"bronze_bucket"`
	WindowStart   time.Time `json:"window_start"`
	WindowEnd     time.Time `json:"window_end"`
	Copies        []Copy    `json:"copies"`
}

// Output counts what one call did (kept small: a distributed Map collects
// one per batch).
type Output struct {
	Listed int `json:"listed"`
	// InWindow objects were modified in [start, end) (copies excluded).
	InWindow int `json:"in_window"`
	Copied   int `json:"copied"`
	// SkippedCopies are earlier replay copies that were not copied again.
	SkippedCopies int   `json:"skipped_copies"`
	Bytes         int64 `json:"bytes"`
	// ETagChanged counts copies whose ETag differs from their source's
	// (logged as replay.etag_changed). Their rows still land on the
	// source's silver files, through the content identity they carry.
	ETagChanged int `json:"etag_changed"`
	// CopyList is the key of the copy list in the silver bucket ("" when
	// nothing was copied).
	CopyList string `json:"copy_list,omitempty"`
}

// Deps are the task's dependencies.
type Deps struct {
	Store objstore.Store
	Log   *slog.Logger
}

// Config tunes the task.
type Config struct {
	// BronzePrefix is the prefix ingest watches (default "bronze/"). Copies
	// must land under it, and keys are made relative to it.
	BronzePrefix string
	// PageSize is the listing page in direct mode (default 1000).
	PageSize int
	// CopyPrefixes are extra prefixes known to hold replay copies (of other
	// dest_prefix_base values); objects under them are never copied.
	CopyPrefixes []string
	// TrustedPrefixes are where a source's elt-content-etag metadata is
	// believed (a copy of a copy keeps its original's identity): the
	// prefixes only replay can write, the same list ingest trusts. Anywhere
	// else a source's identity is its own ETag, so a forged value cannot be
	// laundered into a copy that ingest trusts. nil means
	// work.DefaultCopyPrefixes(BronzePrefix), i.e. bronze/replay/.
	TrustedPrefixes []string
}

// Task is the replay task.
type Task struct {
	store objstore.Store
	log   *slog.Logger
	cfg   Config
}

// New returns the task.
func New(deps Deps, cfg Config) (*Task, error) {
	if deps.Store == nil {
		return nil, errors.New("replay: store is required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.BronzePrefix == "" {
		cfg.BronzePrefix = "bronze/"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 1000
	}
	if cfg.TrustedPrefixes == nil {
		cfg.TrustedPrefixes = work.DefaultCopyPrefixes(cfg.BronzePrefix)
	}
	return &Task{store: deps.Store, log: deps.Log, cfg: cfg}, nil
}

// Error is the task's typed error.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string     { return e.Err.Error() }
func (e *Error) Unwrap() error     { return e.Err }
func (e *Error) ErrorName() string { return e.Name }

func invalid(format string, args ...any) error {
	return &Error{Name: ErrInvalidInput, Err: fmt.Errorf(format, args...)}
}

// storeErr names a store failure: a missing bucket or a refused request is
// the input's fault; anything else may pass on retry.
func storeErr(err error, format string, args ...any) error {
	name := ErrStoreUnavailable
	if fault.Is(err, fault.InvalidArgument) || fault.Is(err, fault.NotFound) {
		name = ErrInvalidInput
	}
	return &Error{Name: name, Err: fmt.Errorf(format+": %w", append(args, err)...)}
}

// plan is a checked request.
type plan struct {
	req        Request
	start, end time.Time
	destBase   string // dest_prefix_base with one trailing '/'
	destPrefix string // destBase + execution name + '/'
}

var executionName = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,80}$`)

// Plan checks a request and computes its window: [start, end) from start
// and end, or [execution_start - window_hours, execution_start). Bounds are
// whole seconds, the precision of the listing's LastModified.
func (t *Task) Plan(r Request) (plan, error) {
	p := plan{req: r}
	switch {
	case r.BronzeBucket == "":
		return p, invalid("bronze_bucket is required")
	case r.SilverBucket == "":
		return p, invalid("silver_bucket is required")
	case !executionName.MatchString(r.ExecutionName):
		return p, invalid("execution_name %q must be 1-80 letters, digits, '.', '-' or '_'", r.ExecutionName)
	case r.DestPrefixBase == "" || strings.Trim(r.DestPrefixBase, "/") == "":
		return p, invalid("dest_prefix_base is required")
	}
	p.destBase = strings.TrimSuffix(r.DestPrefixBase, "/") + "/"
	p.destPrefix = p.destBase + r.ExecutionName + "/"
	if !strings.HasPrefix(p.destBase, t.cfg.BronzePrefix) || p.destBase == t.cfg.BronzePrefix {
		return p, invalid("dest_prefix_base %q must be below the bronze prefix %q that ingest watches", r.DestPrefixBase, t.cfg.BronzePrefix)
	}
	parse := func(field, v string) (time.Time, error) {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, invalid("%s %q is not an RFC 3339 time", field, v)
		}
		return tm.UTC().Truncate(time.Second), nil
	}
	var err error
	switch {
	case r.WindowHours != nil && (r.Start != "" || r.End != ""):
		return p, invalid("give window_hours or start and end, not both")
	case r.WindowHours != nil:
		if *r.WindowHours < 1 {
			return p, invalid("window_hours must be at least 1, got %d", *r.WindowHours)
		}
		if r.ExecutionStart == "" {
			return p, invalid("execution_start is required with window_hours (the window must not move on a retry)")
		}
		if p.end, err = parse("execution_start", r.ExecutionStart); err != nil {
			return p, err
		}
		p.start = p.end.Add(-time.Duration(*r.WindowHours) * time.Hour)
	case r.Start != "" && r.End != "":
		if p.start, err = parse("start", r.Start); err != nil {
			return p, err
		}
		if p.end, err = parse("end", r.End); err != nil {
			return p, err
		}
		if !p.start.Before(p.end) {
			return p, invalid("start %s is not before end %s", r.Start, r.End)
		}
	default:
		return p, invalid("give window_hours, or start and end")
	}
	return p, nil
}

// isCopy tells whether key is an earlier replay copy.
func (t *Task) isCopy(p plan, key string) bool {
	if strings.HasPrefix(key, p.destBase) {
		return true
	}
	for _, cp := range t.cfg.CopyPrefixes {
		if cp != "" && strings.HasPrefix(key, cp) {
			return true
		}
	}
	return false
}

// DestKey is where key's copy goes: the key relative to the bronze prefix
// (or the whole key when outside it) under the execution's dest prefix.
func (p plan) DestKey(bronzePrefix, key string) string {
	return p.destPrefix + strings.TrimPrefix(key, bronzePrefix)
}

// Handle replays one batch (Map) or the whole window (direct).
func (t *Task) Handle(ctx context.Context, in Input) (Output, error) {
	req := in.Request
	batch := in.BatchInput != nil
	if batch {
		req = in.BatchInput.Request
		if in.BatchInput.ExecutionName != "" {
			req.ExecutionName = in.BatchInput.ExecutionName
		}
		if in.BatchInput.ExecutionStart != "" {
			req.ExecutionStart = in.BatchInput.ExecutionStart
		}
	}
	p, err := t.Plan(req)
	if err != nil {
		return Output{}, err
	}
	var out Output
	var copies []Copy
	consider := func(key, etag string, lm time.Time, size int64) error {
		out.Listed++
		if strings.HasSuffix(key, "/") || !strings.HasPrefix(key, req.SrcPrefix) {
			return nil // a folder marker, or an item outside the request
		}
		if t.isCopy(p, key) {
			out.SkippedCopies++
			return nil
		}
		lm = lm.UTC().Truncate(time.Second)
		if lm.Before(p.start) || !lm.Before(p.end) {
			return nil
		}
		out.InWindow++
		dst := p.DestKey(t.cfg.BronzePrefix, key)
		src, oi, err := t.copyOne(ctx, req.BronzeBucket, key, dst)
		if err != nil {
			if fault.Is(err, fault.NotFound) {
				// Deleted since it was listed: nothing to replay.
				t.log.Warn("replay.source_gone", "key", key)
				out.InWindow--
				return nil
			}
			return storeErr(err, "copy s3://%s/%s to %s", req.BronzeBucket, key, dst)
		}
		identity, _ := work.ContentETagUnder(t.cfg.TrustedPrefixes, key, src)
		if oi.ETag != src.ETag {
			out.ETagChanged++
			t.log.Info("replay.etag_changed", "source", key, "source_etag", src.ETag, "copy", dst, "copy_etag", oi.ETag, "content_etag", identity)
		}
		c := Copy{DestKey: dst, ETag: oi.ETag, SourceKey: key, SourceETag: src.ETag, Size: oi.Size}
		if identity != oi.ETag {
			c.ContentETag = identity
		}
		copies = append(copies, c)
		out.Copied++
		out.Bytes += oi.Size
		return nil
	}
	var ids []string
	if batch {
		for _, it := range in.Items {
			if err := ctx.Err(); err != nil {
				return Output{}, err
			}
			if err := consider(it.Key, strings.Trim(it.Etag, `"`), it.LastModified.Time, it.Size); err != nil {
				return Output{}, err
			}
			ids = append(ids, it.Key)
		}
	} else {
		token := ""
		for {
			page, err := t.store.List(ctx, req.BronzeBucket, objstore.ListOptions{Prefix: req.SrcPrefix, ContinuationToken: token, MaxKeys: t.cfg.PageSize})
			if err != nil {
				return Output{}, storeErr(err, "list s3://%s/%s", req.BronzeBucket, req.SrcPrefix)
			}
			for _, o := range page.Objects {
				if err := consider(o.Key, o.ETag, o.LastModified, o.Size); err != nil {
					return Output{}, err
				}
			}
			if token = page.NextContinuationToken; token == "" {
				break
			}
		}
		ids = []string{"all"}
	}
	if len(copies) > 0 {
		list := CopyList{ExecutionName: req.ExecutionName, BatchID: batchID(ids), BronzeBucket: req.BronzeBucket,
			WindowStart: p.start, WindowEnd: p.end, Copies: copies}
		key := CopyListDir(req.ExecutionName) + "copies-" + list.BatchID + ".json"
		b, err := json.Marshal(list)
		if err != nil {
			return Output{}, fmt.Errorf("encode copy list: %w", err)
		}
		if _, err := t.store.Put(ctx, req.SilverBucket, key, bytes.NewReader(b), &objstore.PutOptions{ContentType: "application/json"}); err != nil {
			return Output{}, storeErr(err, "put copy list s3://%s/%s", req.SilverBucket, key)
		}
		out.CopyList = key
	}
	t.log.Info("replay.done", "execution", req.ExecutionName, "listed", out.Listed, "in_window", out.InWindow,
		"copied", out.Copied, "skipped_copies", out.SkippedCopies, "window_start", p.start, "window_end", p.end)
	return out, nil
}

// copyAttempts bounds the Head+Copy rounds when the source keeps changing
// between the two.
const copyAttempts = 3

// copyOne copies bucket/key to dst with the source's content identity in
// the copy's metadata, pinned to the version the identity was read from. It
// returns the source version copied and the copy.
func (t *Task) copyOne(ctx context.Context, bucket, key, dst string) (objstore.ObjectInfo, objstore.ObjectInfo, error) {
	var err error
	for attempt := 1; attempt <= copyAttempts; attempt++ {
		var src, oi objstore.ObjectInfo
		if src, err = t.store.Head(ctx, bucket, key); err != nil {
			return src, oi, err
		}
		meta := make(map[string]string, len(src.Metadata)+1)
		for k, v := range src.Metadata {
			meta[k] = v
		}
		identity, ignored := work.ContentETagUnder(t.cfg.TrustedPrefixes, key, src)
		meta[work.ContentETagMeta] = identity
		oi, err = t.store.Copy(ctx, bucket, key, bucket, dst, &objstore.CopyOptions{IfMatch: src.ETag, Metadata: meta})
		if !fault.Is(err, fault.PreconditionFailed) {
			if err == nil && ignored {
				t.log.Warn("replay.content_etag_ignored", "bucket", bucket, "key", key, "metadata", work.ContentETagMeta,
					"value", src.Metadata[work.ContentETagMeta], "trusted_prefixes", t.cfg.TrustedPrefixes)
			}
			return src, oi, err
		}
		// Overwritten between the Head and the Copy: read it again.
		t.log.Info("replay.source_changed", "key", key, "etag", src.ETag, "attempt", attempt)
	}
	return objstore.ObjectInfo{}, objstore.ObjectInfo{}, err
}

// batchID names a batch by its items, so a retried batch overwrites its own
// list and two batches never share one.
func batchID(keys []string) string {
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
