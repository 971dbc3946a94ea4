// Package silverpoll is the task the ops workflow polls with after a
// replay: it checks that the replayed data actually landed in silver, not
// just that some Parquet appeared.
//
// The replay's copy lists (ops/replay/<execution name>/copies-*.json in the
// silver bucket) name every copied object (key, ETag and content identity).
// Transform writes a receipt per chunk of each object it processed, after
// that chunk's outputs (tasks/transform,
// _receipts/<content identity>/c<chunk>/<sha256(bucket/key)[:16]>.json; the
// identity is the copy's ETag unless S3 gave the copy a new one, then its
// source's). A copied object has landed when receipts exist for all its
// chunks, each naming that very copy (bucket, key, ETag, identity), and every file a receipt names
// exists and holds the rows the receipt states (Parquet: the footer's row
// count; quarantine JSONL: the object exists). The answer is an output:
// "not ready yet" is not an error, so the workflow's Choice decides whether
// to wait again.
package silverpoll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/tasks/replay"
	"github.com/serverless-elt/elt/tasks/transform"
)

// Error names (ASL).
const (
	ErrInvalidInput     = "SilverPoll.InvalidInput"
	ErrStoreUnavailable = "SilverPoll.StoreUnavailable"
)

// MaxMissing bounds Output.Missing.
const MaxMissing = 20

// Input names where to look.
type Input struct {
	SilverBucket string `json:"silver_bucket"`
	// SilverPrefix is where silver Parquet lives (e.g. "silver/"); a
	// receipt naming a silver file elsewhere means the input does not
	// match the pipeline's layout.
	SilverPrefix string `json:"silver_prefix"`
	// ExecutionName selects the copy lists: ops/replay/<execution_name>/.
	ExecutionName string `json:"execution_name"`
}

// Output is the poll's answer.
type Output struct {
	Ready           bool  `json:"ready"`
	ExpectedObjects int   `json:"expected_objects"`
	LandedObjects   int   `json:"landed_objects"`
	Rows            int64 `json:"rows"` // silver rows of the landed objects
	// Missing are the first MaxMissing copied keys that have not landed.
	Missing []string `json:"missing"`
}

// Deps are the task's dependencies.
type Deps struct {
	Store objstore.Store
	Log   *slog.Logger
}

// Config is empty; it keeps the constructor shape of every task.
type Config struct{}

// Task is the silver poll.
type Task struct {
	store objstore.Store
	log   *slog.Logger
}

// New returns the task.
func New(deps Deps, _ Config) (*Task, error) {
	if deps.Store == nil {
		return nil, errors.New("silverpoll: store is required")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Task{store: deps.Store, log: deps.Log}, nil
}

// Error is the task's typed error.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string     { return e.Err.Error() }
func (e *Error) Unwrap() error     { return e.Err }
func (e *Error) ErrorName() string { return e.Name }

func storeErr(err error, format string, args ...any) error {
	name := ErrStoreUnavailable
	if fault.Is(err, fault.InvalidArgument) {
		name = ErrInvalidInput
	}
	return &Error{Name: name, Err: fmt.Errorf(format+": %w", append(args, err)...)}
}

// copied is one replayed object to find.
type copied struct {
	bucket, key, etag string
	identity          string // content identity: its receipts' prefix
}

// Handle polls once.
func (t *Task) Handle(ctx context.Context, in Input) (Output, error) {
	if in.SilverBucket == "" || in.ExecutionName == "" {
		return Output{}, &Error{Name: ErrInvalidInput, Err: errors.New("silver_bucket and execution_name are required")}
	}
	prefix := in.SilverPrefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	copies, err := t.copies(ctx, in.SilverBucket, replay.CopyListDir(in.ExecutionName))
	if err != nil {
		return Output{}, err
	}
	out := Output{ExpectedObjects: len(copies), Missing: []string{}}
	receipts := map[string]map[string][]string{} // etag -> source hash -> receipt keys
	for _, c := range copies {
		if err := ctx.Err(); err != nil {
			return Output{}, err
		}
		byHash, ok := receipts[c.identity]
		if !ok {
			if byHash, err = t.receiptIndex(ctx, in.SilverBucket, c.identity); err != nil {
				return Output{}, err
			}
			receipts[c.identity] = byHash
		}
		rows, why, err := t.landed(ctx, in.SilverBucket, prefix, c, byHash[transform.SourceHash(c.bucket, c.key)])
		if err != nil {
			return Output{}, err
		}
		if why != "" {
			t.log.Info("silverpoll.not_landed", "object", "s3://"+c.bucket+"/"+c.key, "etag", c.etag, "reason", why)
			if len(out.Missing) < MaxMissing {
				out.Missing = append(out.Missing, c.key)
			}
			continue
		}
		out.LandedObjects++
		out.Rows += rows
	}
	out.Ready = out.LandedObjects == out.ExpectedObjects
	t.log.Info("silverpoll.done", "execution", in.ExecutionName, "ready", out.Ready, "expected", out.ExpectedObjects,
		"landed", out.LandedObjects, "rows", out.Rows)
	return out, nil
}

// copies reads every copy list under dir (deduplicated by bucket and key:
// a retried batch rewrote its own list, but two lists never name one key).
func (t *Task) copies(ctx context.Context, bucket, dir string) ([]copied, error) {
	seen := map[[2]string]bool{}
	var out []copied
	token := ""
	for {
		page, err := t.store.List(ctx, bucket, objstore.ListOptions{Prefix: dir, ContinuationToken: token})
		if err != nil {
			return nil, storeErr(err, "list copy lists s3://%s/%s", bucket, dir)
		}
		for _, o := range page.Objects {
			var l replay.CopyList
			if err := t.getJSON(ctx, bucket, o.Key, &l); err != nil {
				if fault.Is(err, fault.NotFound) {
					continue // removed since listed
				}
				return nil, err
			}
			for _, c := range l.Copies {
				k := [2]string{l.BronzeBucket, c.DestKey}
				if !seen[k] {
					seen[k] = true
					out = append(out, copied{bucket: l.BronzeBucket, key: c.DestKey, etag: c.ETag, identity: c.Identity()})
				}
			}
		}
		if token = page.NextContinuationToken; token == "" {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, nil
}

// receiptIndex lists the receipts of one content identity by source hash.
func (t *Task) receiptIndex(ctx context.Context, bucket, identity string) (map[string][]string, error) {
	prefix := transform.ReceiptObjectPrefix(identity)
	idx := map[string][]string{}
	token := ""
	for {
		page, err := t.store.List(ctx, bucket, objstore.ListOptions{Prefix: prefix, ContinuationToken: token})
		if err != nil {
			return nil, storeErr(err, "list receipts s3://%s/%s", bucket, prefix)
		}
		for _, o := range page.Objects {
			name := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
			if h, ok := strings.CutSuffix(name, ".json"); ok {
				idx[h] = append(idx[h], o.Key)
			}
		}
		if token = page.NextContinuationToken; token == "" {
			break
		}
	}
	return idx, nil
}

// landed checks one copied object's receipts and their files. It returns
// the object's silver rows, or why it has not landed ("" when it has).
func (t *Task) landed(ctx context.Context, bucket, silverPrefix string, c copied, keys []string) (int64, string, error) {
	if len(keys) == 0 {
		return 0, "no receipt yet", nil
	}
	chunks := -1
	have := map[int]bool{}
	var rows int64
	for _, k := range keys {
		var r transform.Receipt
		if err := t.getJSON(ctx, bucket, k, &r); err != nil {
			if fault.Is(err, fault.NotFound) {
				return 0, "receipt " + k + " vanished", nil
			}
			return 0, "", err
		}
		if r.Bucket != c.bucket || r.Key != c.key || r.ETag != c.etag || r.Identity() != c.identity {
			continue // another object whose bucket/key hashes alike, or another version: not ours
		}
		if chunks >= 0 && r.Chunks != chunks {
			return 0, fmt.Sprintf("receipts disagree on the chunk count (%d, %d)", chunks, r.Chunks), nil
		}
		chunks = r.Chunks
		for _, f := range r.Files {
			if f.Kind == "silver" && silverPrefix != "" && !strings.HasPrefix(f.Key, silverPrefix) {
				return 0, "", &Error{Name: ErrInvalidInput, Err: fmt.Errorf("receipt %s names silver file %s outside silver_prefix %q", k, f.Key, silverPrefix)}
			}
			why, err := t.checkFile(ctx, bucket, f.Kind, f.Key, f.Rows)
			if err != nil || why != "" {
				return 0, why, err
			}
		}
		have[r.Chunk] = true
		rows += r.Rows
	}
	if chunks < 0 {
		return 0, "no receipt for this key and etag", nil
	}
	for i := 0; i < chunks; i++ {
		if !have[i] {
			return 0, fmt.Sprintf("chunk %d of %d has no receipt yet", i, chunks), nil
		}
	}
	return rows, "", nil
}

// checkFile checks that a file a receipt names exists and, for Parquet,
// that its footer says it holds rows rows.
func (t *Task) checkFile(ctx context.Context, bucket, kind, key string, rows int64) (string, error) {
	info, err := t.store.Head(ctx, bucket, key)
	if fault.Is(err, fault.NotFound) {
		return "file " + key + " is missing", nil
	}
	if err != nil {
		return "", storeErr(err, "head s3://%s/%s", bucket, key)
	}
	if kind != "silver" {
		if rows > 0 && info.Size == 0 {
			return "quarantine file " + key + " is empty", nil
		}
		return "", nil
	}
	n, err := ParquetRows(ctx, t.store, info)
	if fault.Is(err, fault.NotFound) || fault.Is(err, fault.PreconditionFailed) {
		return "file " + key + " changed while being read", nil
	}
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return "", err
		}
		return "file " + key + " is not readable Parquet: " + err.Error(), nil
	}
	if n != rows {
		return fmt.Sprintf("file %s holds %d rows, its receipt says %d", key, n, rows), nil
	}
	return "", nil
}

// ParquetRows reads a Parquet object's footer (ranged reads, pinned to the
// object's ETag) and returns its row count.
func ParquetRows(ctx context.Context, store objstore.Store, info objstore.ObjectInfo) (int64, error) {
	ra := &rangeReader{ctx: ctx, store: store, info: info}
	f, err := parquet.OpenFile(ra, info.Size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true), parquet.OptimisticRead(true))
	if err != nil {
		if ra.err != nil {
			return 0, ra.err
		}
		return 0, err
	}
	return f.NumRows(), nil
}

// rangeReader is an io.ReaderAt over ranged Gets of one object version.
type rangeReader struct {
	ctx   context.Context
	store objstore.Store
	info  objstore.ObjectInfo
	err   error // the last store error (as opposed to a format error)
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.info.Size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.info.Size-off)
	rc, _, err := r.store.Get(r.ctx, r.info.Bucket, r.info.Key, &objstore.GetOptions{IfMatch: r.info.ETag, Range: &objstore.Range{Offset: off, Length: n}})
	if err != nil {
		if !fault.Is(err, fault.NotFound) && !fault.Is(err, fault.PreconditionFailed) {
			err = storeErr(err, "read s3://%s/%s bytes %d+%d", r.info.Bucket, r.info.Key, off, n)
		}
		r.err = err
		return 0, err
	}
	defer rc.Close()
	got, err := io.ReadFull(rc, p[:n])
	if err != nil {
		r.err = storeErr(err, "read s3://%s/%s bytes %d+%d", r.info.Bucket, r.info.Key, off, n)
		return got, r.err
	}
	if int64(got) < int64(len(p)) {
		return got, io.EOF
	}
	return got, nil
}

func (t *Task) getJSON(ctx context.Context, bucket, key string, v any) error {
	rc, _, err := t.store.Get(ctx, bucket, key, nil)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return err
		}
		return storeErr(err, "get s3://%s/%s", bucket, key)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	if err := dec.Decode(v); err != nil {
		return &Error{Name: ErrInvalidInput, Err: fmt.Errorf("decode s3://%s/%s: %w", bucket, key, err)}
	}
	return nil
}
