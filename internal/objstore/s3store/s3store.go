// Package s3store is the objstore.Store driver for Amazon S3
// (aws-sdk-go-v2). It passes the contract suite in objstore/storetest
// against a real S3-speaking server (gofakes3) on loopback.
//
// IAM: Get and Head need only s3:GetObject (HeadObject is authorised by
// s3:GetObject, so ingest needs no ListBucket); Put needs s3:PutObject (which
// also covers the multipart calls except AbortMultipartUpload, which needs
// s3:AbortMultipartUpload; without it a failed large upload is left for the
// bucket's AbortIncompleteMultipartUpload lifecycle rule); Copy needs
// s3:GetObject on the source (also for the HeadObject of a copy with new
// metadata) and s3:PutObject on the target; List needs
// s3:ListBucket.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
)

// Defaults for Options.
const (
	// DefaultPartSize is the multipart part size; bodies up to it go in one
	// PutObject. 64 MiB keeps the parts of a 5 GiB object under S3's
	// 10,000-part limit many times over while bounding the memory a put holds.
	DefaultPartSize = 64 << 20
	// MinPartSize is S3's smallest allowed part (except the last).
	MinPartSize = 5 << 20
	// DefaultTimeout bounds one metadata call (Head, Delete, List, Copy).
	DefaultTimeout = 30 * time.Second
)

// Options tune the store.
type Options struct {
	// PartSize is the multipart threshold and part size (>= MinPartSize).
	PartSize int64
	// Timeout bounds each metadata call; reads and writes of bodies are
	// bounded by the caller's context only, since their length varies.
	Timeout time.Duration
	// Now is the clock for the LastModified of Put results (time.Now).
	Now func() time.Time
}

// Store is an S3-backed objstore.Store.
type Store struct {
	c    *s3.Client
	opts Options
}

var _ objstore.Store = (*Store)(nil)

// New returns a store over an S3 client.
func New(c *s3.Client, opts Options) *Store {
	if opts.PartSize <= 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < MinPartSize {
		opts.PartSize = MinPartSize
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{c: c, opts: opts}
}

// NewClient builds the S3 client for cfg: path-style addressing when the
// endpoint is overridden (local servers do not resolve bucket subdomains).
func NewClient(cfg aws.Config) *s3.Client {
	pathStyle := awsconf.EndpointOverridden(cfg, "S3")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
	})
}

var s3Codes = map[string]fault.Code{
	"NoSuchKey":          fault.NotFound,
	"NotFound":           fault.NotFound,
	"PreconditionFailed": fault.PreconditionFailed,
	"InvalidRange":       fault.InvalidArgument,
}

func classify(op string, err error) error { return awsconf.Classify(op, err, s3Codes) }

// unquote strips the quotes S3 puts around ETags.
func unquote(etag *string) string {
	if etag == nil {
		return ""
	}
	return strings.Trim(*etag, `"`)
}

func (s *Store) metaCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// Get implements objstore.Store. IfMatch is sent as If-Match and, in
// addition, the returned ETag is compared with it, so a server that ignores
// If-Match on GET (gofakes3 does) still cannot hand back another version.
func (s *Store) Get(ctx context.Context, bucket, key string, opts *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	op := fmt.Sprintf("s3 GetObject s3://%s/%s", bucket, key)
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	var ifMatch string
	if opts != nil {
		if opts.IfMatch != "" {
			ifMatch = strings.Trim(opts.IfMatch, `"`)
			in.IfMatch = aws.String(`"` + ifMatch + `"`)
		}
		if r := opts.Range; r != nil {
			if r.Offset < 0 {
				return nil, objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, op, fmt.Errorf("negative offset %d", r.Offset))
			}
			if r.Length == 0 {
				return nil, objstore.ObjectInfo{}, fault.New(fault.InvalidArgument, op, errors.New("empty range"))
			}
			if r.Length < 0 {
				in.Range = aws.String(fmt.Sprintf("bytes=%d-", r.Offset))
			} else {
				in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1))
			}
		}
	}
	var optFns []func(*s3.Options)
	if in.Range != nil {
		// A full-object checksum cannot validate a part of the object. S3
		// omits it on ranged reads; some servers (gofakes3) send it anyway,
		// so only validate when a checksum is required.
		optFns = append(optFns, func(o *s3.Options) {
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		})
	}
	out, err := s.c.GetObject(ctx, in, optFns...)
	if err != nil {
		return nil, objstore.ObjectInfo{}, classify(op, err)
	}
	info := objstore.ObjectInfo{
		Bucket:       bucket,
		Key:          key,
		ETag:         unquote(out.ETag),
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified),
		Metadata:     lowerKeys(out.Metadata),
	}
	if ifMatch != "" && info.ETag != ifMatch {
		out.Body.Close()
		return nil, objstore.ObjectInfo{}, fault.New(fault.PreconditionFailed, op,
			fmt.Errorf("object has ETag %s, want %s", info.ETag, ifMatch))
	}
	if in.Range != nil {
		total, err := totalFromContentRange(aws.ToString(out.ContentRange))
		if err != nil {
			out.Body.Close()
			return nil, objstore.ObjectInfo{}, fault.New(fault.Unknown, op, err)
		}
		if total >= 0 {
			info.Size = total
		}
	}
	return out.Body, info, nil
}

// totalFromContentRange parses "bytes 0-4/20" -> 20; "*" totals give -1.
func totalFromContentRange(cr string) (int64, error) {
	if cr == "" {
		return -1, nil
	}
	i := strings.LastIndexByte(cr, '/')
	if i < 0 {
		return 0, fmt.Errorf("malformed Content-Range %q", cr)
	}
	t := cr[i+1:]
	if t == "*" {
		return -1, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("malformed Content-Range %q", cr)
	}
	return n, nil
}

// Head implements objstore.Store.
func (s *Store) Head(ctx context.Context, bucket, key string) (objstore.ObjectInfo, error) {
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	out, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return objstore.ObjectInfo{}, classify(fmt.Sprintf("s3 HeadObject s3://%s/%s", bucket, key), err)
	}
	return objstore.ObjectInfo{
		Bucket:       bucket,
		Key:          key,
		ETag:         unquote(out.ETag),
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified),
		Metadata:     lowerKeys(out.Metadata),
	}, nil
}

// Put implements objstore.Store. A body up to PartSize goes in one
// PutObject; a longer one in a multipart upload, which S3 makes visible only
// when CompleteMultipartUpload succeeds, so readers never see a part.
// Put does not HEAD the result (writers such as transform hold only
// s3:PutObject), so LastModified is the local clock's.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, opts *objstore.PutOptions) (objstore.ObjectInfo, error) {
	op := fmt.Sprintf("s3 PutObject s3://%s/%s", bucket, key)
	if opts == nil {
		opts = &objstore.PutOptions{}
	}
	first, err := readPart(body, s.opts.PartSize)
	if err != nil {
		return objstore.ObjectInfo{}, fault.New(fault.Unknown, op, fmt.Errorf("read body: %w", err))
	}
	if int64(len(first)) < s.opts.PartSize {
		in := &s3.PutObjectInput{
			Bucket:        aws.String(bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(first),
			ContentLength: aws.Int64(int64(len(first))),
			Metadata:      opts.Metadata,
		}
		if opts.ContentType != "" {
			in.ContentType = aws.String(opts.ContentType)
		}
		out, err := s.c.PutObject(ctx, in)
		if err != nil {
			return objstore.ObjectInfo{}, classify(op, err)
		}
		return objstore.ObjectInfo{
			Bucket: bucket, Key: key, ETag: unquote(out.ETag), Size: int64(len(first)),
			LastModified: s.opts.Now().UTC(), Metadata: lowerKeys(opts.Metadata),
		}, nil
	}
	return s.multipart(ctx, bucket, key, first, body, opts)
}

func (s *Store) multipart(ctx context.Context, bucket, key string, first []byte, body io.Reader, opts *objstore.PutOptions) (objstore.ObjectInfo, error) {
	op := fmt.Sprintf("s3 multipart upload s3://%s/%s", bucket, key)
	cin := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), Metadata: opts.Metadata}
	if opts.ContentType != "" {
		cin.ContentType = aws.String(opts.ContentType)
	}
	created, err := s.c.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return objstore.ObjectInfo{}, classify(op, err)
	}
	uploadID := created.UploadId
	abort := func(cause error) error {
		// Best effort on a fresh context: the caller's may be the reason we
		// are aborting.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
		defer cancel()
		if _, aerr := s.c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: uploadID,
		}); aerr != nil {
			return errors.Join(cause, fmt.Errorf("abort upload: %w", aerr))
		}
		return cause
	}
	var parts []types.CompletedPart
	size := int64(0)
	part := first
	for n := int32(1); ; n++ {
		out, err := s.c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: uploadID,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))),
		})
		if err != nil {
			return objstore.ObjectInfo{}, abort(classify(fmt.Sprintf("%s part %d", op, n), err))
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		size += int64(len(part))
		if int64(len(part)) < s.opts.PartSize {
			break
		}
		part, err = readPart(body, s.opts.PartSize)
		if err != nil {
			return objstore.ObjectInfo{}, abort(fault.New(fault.Unknown, op, fmt.Errorf("read body: %w", err)))
		}
		if len(part) == 0 {
			break
		}
	}
	done, err := s.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return objstore.ObjectInfo{}, abort(classify(op+" complete", err))
	}
	return objstore.ObjectInfo{
		Bucket: bucket, Key: key, ETag: unquote(done.ETag), Size: size,
		LastModified: s.opts.Now().UTC(), Metadata: lowerKeys(opts.Metadata),
	}, nil
}

// readPart reads up to n bytes (fewer only at the end of r).
func readPart(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := io.CopyN(&buf, r, n)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf.Bytes(), nil
}

// copySource is "bucket/key" URL-encoded per path segment, as CopyObject's
// x-amz-copy-source requires.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return bucket + "/" + strings.Join(segs, "/")
}

// Copy implements objstore.Store. Objects over 5 GiB would need
// UploadPartCopy; ours are bounded chunks and never that big.
//
// Without opts.Metadata it is one CopyObject with MetadataDirective COPY.
// With it, MetadataDirective REPLACE, which on S3 also resets the system
// metadata, so the source is read with HeadObject first and its content
// type, encoding, language, disposition and cache control passed on
// ("Copying objects" in the S3 user guide: "you can't update only part of
// the metadata"). IfMatch is sent as
// x-amz-copy-source-if-match, which makes it exact on S3, and also checked
// against a HeadObject of the source first, for servers that ignore the
// header (gofakes3 v1.2.0 does).
func (s *Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts *objstore.CopyOptions) (objstore.ObjectInfo, error) {
	op := fmt.Sprintf("s3 CopyObject s3://%s/%s -> s3://%s/%s", srcBucket, srcKey, dstBucket, dstKey)
	if opts == nil {
		opts = &objstore.CopyOptions{}
	}
	in := &s3.CopyObjectInput{
		Bucket: aws.String(dstBucket), Key: aws.String(dstKey),
		CopySource:        aws.String(copySource(srcBucket, srcKey)),
		MetadataDirective: types.MetadataDirectiveCopy,
	}
	ifMatch := strings.Trim(opts.IfMatch, `"`)
	if ifMatch != "" {
		in.CopySourceIfMatch = aws.String(`"` + ifMatch + `"`)
	}
	cctx, cancel := s.metaCtx(ctx)
	defer cancel()
	if opts.Metadata != nil || ifMatch != "" {
		head, err := s.c.HeadObject(cctx, &s3.HeadObjectInput{Bucket: aws.String(srcBucket), Key: aws.String(srcKey)})
		if err != nil {
			return objstore.ObjectInfo{}, classify(op+" (head source)", err)
		}
		if got := unquote(head.ETag); ifMatch != "" && got != ifMatch {
			return objstore.ObjectInfo{}, fault.New(fault.PreconditionFailed, op, fmt.Errorf("source has ETag %s, want %s", got, ifMatch))
		}
		if opts.Metadata != nil {
			in.MetadataDirective = types.MetadataDirectiveReplace
			in.Metadata = opts.Metadata
			in.ContentType = head.ContentType
			in.ContentEncoding = head.ContentEncoding
			in.ContentLanguage = head.ContentLanguage
			in.ContentDisposition = head.ContentDisposition
			in.CacheControl = head.CacheControl
		}
	}
	if _, err := s.c.CopyObject(cctx, in); err != nil {
		return objstore.ObjectInfo{}, classify(op, err)
	}
	info, err := s.Head(ctx, dstBucket, dstKey)
	if err != nil {
		return objstore.ObjectInfo{}, fmt.Errorf("%s: %w", op, err)
	}
	return info, nil
}

// Delete implements objstore.Store (S3 DeleteObject already succeeds on a
// missing key; a 404 from a server that disagrees is treated the same).
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	_, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		err = classify(fmt.Sprintf("s3 DeleteObject s3://%s/%s", bucket, key), err)
		if fault.Is(err, fault.NotFound) && !isNoSuchBucket(err) {
			return nil
		}
		return err
	}
	return nil
}

func isNoSuchBucket(err error) bool {
	var nb *types.NoSuchBucket
	return errors.As(err, &nb) || strings.Contains(err.Error(), "NoSuchBucket")
}

// List implements objstore.Store with ListObjectsV2.
func (s *Store) List(ctx context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if opts.Prefix != "" {
		in.Prefix = aws.String(opts.Prefix)
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(opts.StartAfter)
	}
	if opts.ContinuationToken != "" {
		in.ContinuationToken = aws.String(opts.ContinuationToken)
	}
	if opts.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(int32(min(opts.MaxKeys, 1000)))
	}
	out, err := s.c.ListObjectsV2(ctx, in)
	if err != nil {
		return objstore.ListPage{}, classify(fmt.Sprintf("s3 ListObjectsV2 s3://%s/%s", bucket, opts.Prefix), err)
	}
	page := objstore.ListPage{Objects: make([]objstore.ObjectInfo, 0, len(out.Contents))}
	for _, o := range out.Contents {
		page.Objects = append(page.Objects, objstore.ObjectInfo{
			Bucket: bucket, Key: aws.ToString(o.Key), ETag: unquote(o.ETag),
			Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified),
		})
	}
	if aws.ToBool(out.IsTruncated) {
		page.NextContinuationToken = aws.ToString(out.NextContinuationToken)
		if page.NextContinuationToken == "" && len(page.Objects) > 0 {
			return objstore.ListPage{}, fault.New(fault.Unknown, "s3 ListObjectsV2 s3://"+bucket, errors.New("truncated page without a continuation token"))
		}
	}
	return page, nil
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
