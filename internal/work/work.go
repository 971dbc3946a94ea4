// Package work defines the message that ingest sends and transform receives:
// a pointer to a byte range of one bronze object version, never the records.
package work

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/objstore"
)

// Format is how a bronze object is encoded.
type Format string

const (
	// JSONL is newline-delimited JSON; it can be split at line boundaries.
	JSONL Format = "jsonl"
	// JSON is a single JSON array or object; it is read whole.
	JSON Format = "json"
)

// Item is one unit of transform work. Range follows the Hadoop split rule:
// a reader of [Offset, Offset+Length) skips the partial first line unless
// Offset is 0 and finishes the line that crosses the end, so consecutive
// ranges cover every line exactly once without ingest reading the object.
type Item struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// ETag pins the object version; transform refuses a changed object.
	ETag string `json:"etag"`
	// ContentETag is the object's content identity when it differs from
	// ETag: a replay copy carries its original's in user metadata
	// ContentETagMeta, because S3 may give a copy a new ETag (one
	// CopyObject of a multipart upload). Output names and receipts use
	// Identity(), so a copy rewrites its original's silver files. Omitted
	// when equal to ETag: messages of other objects are unchanged.
	ContentETag string `json:"content_etag,omitempty"`
	Size        int64  `json:"size"`
	// Range is the byte range of this chunk; Length -1 means the whole object
	// (JSON arrays and compressed objects cannot be split).
	Range  objstore.Range `json:"range"`
	Chunk  int            `json:"chunk"`  // 0-based index of this chunk
	Chunks int            `json:"chunks"` // number of chunks of the object
	Format Format         `json:"format"`
	// Gzip is true when the object is gzip-compressed (read whole).
	Gzip bool `json:"gzip,omitempty"`
	// IngestedAt is when ingest claimed the object (lineage).
	IngestedAt time.Time `json:"ingested_at"`
}

// ContentETagMeta is the user metadata key (x-amz-meta-elt-content-etag)
// holding a copy's content identity: the ETag of the object first ingested
// with that content. Replay sets it on every copy.
const ContentETagMeta = "elt-content-etag"

// maxContentETag bounds a content identity read from metadata (an S3 ETag
// is 32 hex digits, plus "-<parts>" for a multipart upload).
const maxContentETag = 128

// ContentETagOf is an object's content identity: its ContentETagMeta
// metadata when that is a usable ETag (1-128 letters, digits, '-' or '_',
// quotes trimmed), else its own ETag. Anything else in the metadata is
// ignored rather than trusted as a key segment.
func ContentETagOf(info objstore.ObjectInfo) string {
	if v := strings.Trim(strings.TrimSpace(info.Metadata[ContentETagMeta]), `"`); validContentETag(v) {
		return v
	}
	return strings.Trim(info.ETag, `"`)
}

// DefaultCopyPrefixes is where replay copies live under a bronze prefix
// (<bronze prefix>replay/, e.g. bronze/replay/): the only place replay may
// write (the Terraform IAM), so the only keys whose ContentETagMeta is
// trusted by default.
func DefaultCopyPrefixes(bronzePrefix string) []string {
	return []string{strings.TrimSuffix(bronzePrefix, "/") + "/replay/"}
}

// ContentETagUnder is the content identity of the object at key, given the
// key prefixes that hold replay copies: ContentETagOf(info) when key lies
// under one of copyPrefixes, else the object's own ETag. Metadata anywhere
// else is not trusted: a writer of bronze could set it to another object's
// ETag and overwrite that object's silver files. ignored reports metadata
// that was present but not honoured, for the caller to log.
func ContentETagUnder(copyPrefixes []string, key string, info objstore.ObjectInfo) (identity string, ignored bool) {
	for _, p := range copyPrefixes {
		if p != "" && strings.HasPrefix(key, p) {
			return ContentETagOf(info), false
		}
	}
	return strings.Trim(info.ETag, `"`), strings.TrimSpace(info.Metadata[ContentETagMeta]) != ""
}

func validContentETag(v string) bool {
	if v == "" || len(v) > maxContentETag {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Identity is the content identity outputs are named by: ContentETag when
// set, else ETag.
func (it Item) Identity() string {
	if it.ContentETag != "" {
		return it.ContentETag
	}
	return it.ETag
}

// Encode returns the message body for an item.
func (it Item) Encode() (string, error) {
	b, err := json.Marshal(it)
	if err != nil {
		return "", fmt.Errorf("encode work item %s/%s#%d: %w", it.Bucket, it.Key, it.Chunk, err)
	}
	return string(b), nil
}

// Decode parses a message body; it rejects bodies that are not items.
func Decode(body string) (Item, error) {
	var it Item
	if err := json.Unmarshal([]byte(body), &it); err != nil {
		return Item{}, fmt.Errorf("decode work item: %w", err)
	}
	if it.Bucket == "" || it.Key == "" || it.ETag == "" {
		return Item{}, fmt.Errorf("decode work item: bucket, key and etag are required")
	}
	return it, nil
}

// ID is a stable identity of the chunk: the same object version and chunk
// always give the same ID, so outputs named from it are overwritten, not
// duplicated, on redelivery or replay of the same object.
func (it Item) ID() string {
	return fmt.Sprintf("s3://%s/%s#%s@%d", it.Bucket, it.Key, it.ETag, it.Chunk)
}
