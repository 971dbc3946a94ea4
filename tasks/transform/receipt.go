package transform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/internal/work"
)

// ReceiptPrefix is where completion receipts live in the silver bucket.
// Nothing under it is data (catalog crawlers skip it).
const ReceiptPrefix = "_receipts/"

// Receipt says that one chunk of one source object version was transformed
// and that every file it names was committed with the rows it states. It is
// written after the outputs, so a receipt's existence implies theirs; the
// ops workflow's silver poll checks receipts instead of guessing from
// whatever Parquet appeared.
type Receipt struct {
	Bucket string `json:"bucket"` // source bucket
	Key    string `json:"key"`    // source key
	ETag   string `json:"etag"`   // source ETag (the version read)
	// ContentETag is the source's content identity when it differs from
	// ETag (a replay copy that S3 gave a new ETag); the receipt and the
	// files it names are keyed by it.
	ContentETag string `json:"content_etag,omitempty"`
	Chunk       int    `json:"chunk"`
	Chunks      int    `json:"chunks"`
	// Files are the silver and quarantine files the chunk wrote (in the
	// silver bucket), with their rows (quarantine: lines).
	Files       []silver.Written `json:"files"`
	Records     int64            `json:"records"`
	Rows        int64            `json:"rows"`
	Duplicates  int64            `json:"duplicates"`
	Quarantined int64            `json:"quarantined"`
	WrittenAt   time.Time        `json:"written_at"`
}

// ReceiptObjectPrefix is the prefix of every receipt of one content
// identity (work.Item.Identity: the ETag, or a replay copy's original
// ETag), all chunks, all keys with that content: _receipts/<identity>/.
func ReceiptObjectPrefix(identity string) string {
	return ReceiptPrefix + safeETag(identity) + "/"
}

// ReceiptKey is the receipt key of chunk of the object bucket/key whose
// content identity is identity:
// _receipts/<identity>/c<chunk:05d>/<sha256(bucket/key)[:16]>.json. The key
// hash separates copies of the same content under different keys (a
// replay copy gets its own receipts although it rewrites the same silver
// files).
func ReceiptKey(bucket, key, identity string, chunk int) string {
	return fmt.Sprintf("%sc%05d/%s.json", ReceiptObjectPrefix(identity), chunk, SourceHash(bucket, key))
}

// Identity is the content identity the receipt is keyed by.
func (r Receipt) Identity() string {
	if r.ContentETag != "" {
		return r.ContentETag
	}
	return r.ETag
}

// SourceHash is the first 16 hex digits of sha256(bucket + "/" + key).
func SourceHash(bucket, key string) string {
	sum := sha256.Sum256([]byte(bucket + "/" + key))
	return hex.EncodeToString(sum[:8])
}

// safeETag keeps an ETag usable as one key segment (the same rule as the
// silver file names: hex and '-' pass, anything else becomes '_').
func safeETag(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// writeReceipt puts the receipt of a committed chunk into bucket.
func (h *Handler) writeReceipt(ctx context.Context, it work.Item, bucket string, stats silver.Stats, written []silver.Written) error {
	files := written
	if files == nil {
		files = []silver.Written{}
	}
	r := Receipt{Bucket: it.Bucket, Key: it.Key, ETag: it.ETag, ContentETag: it.ContentETag, Chunk: it.Chunk, Chunks: max(it.Chunks, 1), Files: files,
		Records: stats.Records + stats.Quarantined, Rows: stats.Rows, Duplicates: stats.Duplicates, Quarantined: stats.Quarantined,
		WrittenAt: h.now().UTC()}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode receipt: %w", err)
	}
	key := ReceiptKey(it.Bucket, it.Key, it.Identity(), it.Chunk)
	if _, err := h.store.Put(ctx, bucket, key, bytes.NewReader(b), &objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("put receipt s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
