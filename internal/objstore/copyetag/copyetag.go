// Package copyetag wraps an objstore.Store so that copies get a new ETag,
// as S3 gives one: CopyObject of an object uploaded in parts (ETag
// "<md5 of part md5s>-<parts>", e.g. anything over 8 MiB sent by
// `aws s3 cp`) yields a copy whose ETag is the plain MD5 of the content,
// and in a bucket encrypted with SSE-KMS (as this project's Terraform
// makes them) no ETag is an MD5 of the data, so a copy's differs from its
// source's whatever its size (S3 API reference, Object: "Objects created
// by the PUT Object, POST Object, or Copy operation ... encrypted by SSE-C
// or SSE-KMS, have ETags that are not an MD5 digest of their object
// data"). fsstore, like gofakes3, keeps the source's ETag on a copy, so
// tests of replay idempotence need this wrapper to meet the S3 case.
//
// Every object written by Copy through the wrapper reports
// md5(inner ETag + "/copy") instead of its inner ETag, in Copy, Head, Get,
// List and in IfMatch checks; two copies of the same content get the same
// ETag, like S3. A Put or Delete through the wrapper ends the override.
// Objects are otherwise the inner store's.
package copyetag

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
)

// Store is the wrapper.
type Store struct {
	inner objstore.Store
	mu    sync.Mutex
	// copies maps bucket/key of a copy to its inner ETag (the version
	// the override applies to); a later write of the key has another.
	copies map[string]string
}

var _ objstore.Store = (*Store)(nil)

// Wrap returns the wrapper over inner.
func Wrap(inner objstore.Store) *Store {
	return &Store{inner: inner, copies: map[string]string{}}
}

// CopyETag is the ETag a copy of content with inner ETag etag reports.
func CopyETag(etag string) string {
	sum := md5.Sum([]byte(strings.Trim(etag, `"`) + "/copy"))
	return hex.EncodeToString(sum[:])
}

func id(bucket, key string) string { return bucket + "/" + key }

// outer is the ETag the wrapper reports for an object whose inner ETag is
// etag: the copy ETag while the key holds the version that was copied.
func (s *Store) outer(bucket, key, etag string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.copies[id(bucket, key)]; ok && v == etag {
		return CopyETag(etag)
	}
	return etag
}

func (s *Store) fix(bucket, key string, info objstore.ObjectInfo) objstore.ObjectInfo {
	info.ETag = s.outer(bucket, key, info.ETag)
	return info
}

// innerIfMatch translates an IfMatch on bucket/key to the inner store's ETag, or
// reports that it cannot hold.
func (s *Store) innerIfMatch(ctx context.Context, op, bucket, key, want string) (string, error) {
	want = strings.Trim(want, `"`)
	if want == "" {
		return "", nil
	}
	info, err := s.inner.Head(ctx, bucket, key)
	if err != nil {
		return "", err
	}
	if got := s.outer(bucket, key, info.ETag); got != want {
		return "", fault.New(fault.PreconditionFailed, op, fmt.Errorf("object has ETag %s, want %s", got, want))
	}
	return info.ETag, nil
}

// Get implements objstore.Store.
func (s *Store) Get(ctx context.Context, bucket, key string, opts *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	if opts != nil && opts.IfMatch != "" {
		ie, err := s.innerIfMatch(ctx, "copyetag.Get "+id(bucket, key), bucket, key, opts.IfMatch)
		if err != nil {
			return nil, objstore.ObjectInfo{}, err
		}
		o := *opts
		o.IfMatch = ie // the inner store re-checks: a write in between fails
		opts = &o
	}
	rc, info, err := s.inner.Get(ctx, bucket, key, opts)
	if err != nil {
		return nil, info, err
	}
	return rc, s.fix(bucket, key, info), nil
}

// Head implements objstore.Store.
func (s *Store) Head(ctx context.Context, bucket, key string) (objstore.ObjectInfo, error) {
	info, err := s.inner.Head(ctx, bucket, key)
	if err != nil {
		return info, err
	}
	return s.fix(bucket, key, info), nil
}

// Put implements objstore.Store.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, opts *objstore.PutOptions) (objstore.ObjectInfo, error) {
	s.forget(bucket, key)
	return s.inner.Put(ctx, bucket, key, body, opts)
}

// Copy implements objstore.Store: the copy reports CopyETag of its content.
func (s *Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts *objstore.CopyOptions) (objstore.ObjectInfo, error) {
	if opts != nil && opts.IfMatch != "" {
		ie, err := s.innerIfMatch(ctx, "copyetag.Copy "+id(srcBucket, srcKey), srcBucket, srcKey, opts.IfMatch)
		if err != nil {
			return objstore.ObjectInfo{}, err
		}
		o := *opts
		o.IfMatch = ie
		opts = &o
	}
	info, err := s.inner.Copy(ctx, srcBucket, srcKey, dstBucket, dstKey, opts)
	if err != nil {
		return info, err
	}
	s.mu.Lock()
	s.copies[id(dstBucket, dstKey)] = info.ETag
	s.mu.Unlock()
	return s.fix(dstBucket, dstKey, info), nil
}

// Delete implements objstore.Store.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	s.forget(bucket, key)
	return s.inner.Delete(ctx, bucket, key)
}

// List implements objstore.Store.
func (s *Store) List(ctx context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	page, err := s.inner.List(ctx, bucket, opts)
	if err != nil {
		return page, err
	}
	for i := range page.Objects {
		page.Objects[i] = s.fix(bucket, page.Objects[i].Key, page.Objects[i])
	}
	return page, nil
}

func (s *Store) forget(bucket, key string) {
	s.mu.Lock()
	delete(s.copies, id(bucket, key))
	s.mu.Unlock()
}
