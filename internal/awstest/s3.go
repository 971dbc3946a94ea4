package awstest

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an in-process gofakes3 server (memory backend) on 127.0.0.1.
//
// Known deviations from S3 (github.com/johannesboyne/gofakes3 v1.2.0):
// GetObject ignores If-Match (it honours If-Match only on PUT), so
// s3store also checks the returned ETag itself.
type S3 struct {
	URL string
	srv *httptest.Server
}

// StartS3 starts the server.
func StartS3() (*S3, error) {
	faker := gofakes3.New(s3mem.New())
	srv, err := loopback(faker.Server())
	if err != nil {
		return nil, fmt.Errorf("start gofakes3: %w", err)
	}
	return &S3{URL: srv.URL, srv: srv}, nil
}

// Close stops the server.
func (s *S3) Close() { s.srv.Close() }

// Client is an S3 client for the server (path-style addressing).
func (s *S3) Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := Config(ctx, s.URL)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

// CreateBucket makes a bucket.
func (s *S3) CreateBucket(ctx context.Context, name string) error {
	c, err := s.Client(ctx)
	if err != nil {
		return err
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}
