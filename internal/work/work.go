// Package work defines the message that ingest sends and transform receives:
// a pointer to a byte range of one bronze object version, never the records.
package work

import (
	"encoding/json"
	"fmt"
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
	Size int64  `json:"size"`
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
