// Package objstore is the object store the tasks read bronze from and write
// silver, quarantine, manifests and results to. The embedded driver is a
// directory tree (fsstore); the AWS driver is S3 (s3store). Both pass the
// contract suite in objstore/storetest.
//
// Errors carry fault codes: a missing object is fault.NotFound, an IfMatch
// that does not hold is fault.PreconditionFailed.
package objstore

import (
	"context"
	"io"
	"time"
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	ETag         string    `json:"etag"` // quoted-free hex, as S3 reports it without the quotes
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified"`
	// Metadata is user metadata (x-amz-meta-*), keys lower-case.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Range is a byte range [Offset, Offset+Length). Length < 0 means "to the end".
type Range struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// GetOptions qualify a read.
type GetOptions struct {
	// IfMatch, when set, makes the read fail with fault.PreconditionFailed
	// unless the object's current ETag equals it.
	IfMatch string
	// Range, when non-nil, reads only that part of the object.
	Range *Range
}

// PutOptions qualify a write. Writes are atomic: a reader sees the old
// object or the new one, never a part.
type PutOptions struct {
	ContentType string
	Metadata    map[string]string
}

// CopyOptions qualify a copy. A nil *CopyOptions copies the source as it is
// (content, content type and user metadata; S3 MetadataDirective COPY).
type CopyOptions struct {
	// IfMatch, when set, makes the copy fail with fault.PreconditionFailed
	// unless the source's current ETag equals it (S3
	// x-amz-copy-source-if-match), so the copy is of that very version.
	IfMatch string
	// Metadata, when non-nil, replaces the copy's user metadata (S3
	// MetadataDirective REPLACE; keys are stored lower-case). The content
	// type is still the source's. Nil keeps the source's metadata. To add a
	// key, pass the source's metadata (from Head) with the key added.
	Metadata map[string]string
}

// ListOptions qualify a listing. Results are in lexicographic key order.
type ListOptions struct {
	Prefix string
	// StartAfter lists keys strictly after this key.
	StartAfter string
	// ContinuationToken resumes a previous page (opaque).
	ContinuationToken string
	// MaxKeys bounds the page (0 means the backend default, 1000).
	MaxKeys int
}

// ListPage is one page of a listing.
type ListPage struct {
	Objects []ObjectInfo
	// NextContinuationToken is empty on the last page.
	NextContinuationToken string
}

// Store is the object store interface the tasks depend on.
type Store interface {
	// Get opens an object (or a range of it) for reading.
	Get(ctx context.Context, bucket, key string, opts *GetOptions) (io.ReadCloser, ObjectInfo, error)
	// Head returns an object's info without reading it.
	Head(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// Put writes an object atomically and returns its info (with the new ETag).
	Put(ctx context.Context, bucket, key string, body io.Reader, opts *PutOptions) (ObjectInfo, error)
	// Copy copies an object server-side; the copy gets a fresh LastModified.
	// Its ETag may differ from the source's (S3 gives a single-part ETag to
	// the copy of a multipart upload). opts may be nil.
	Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts *CopyOptions) (ObjectInfo, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error
	// List returns one page of objects under a prefix.
	List(ctx context.Context, bucket string, opts ListOptions) (ListPage, error)
}
