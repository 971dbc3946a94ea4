// Package awstest starts real servers that speak the AWS APIs on 127.0.0.1
// for the AWS adapters' tests: gofakes3 (S3, in process), goaws (SQS, in
// process behind a JSON-protocol bridge), local-aws-sqs (SQS, node; the one
// with SQS's receive counts and move tasks) and dynalite (DynamoDB, node). Each
// Start function returns a server the caller closes; packages start one per
// test binary (TestMain or sync.Once) and give each test fresh buckets,
// queues or tables.
package awstest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-elt/elt/internal/awsconf"
)

// Test credentials: local servers accept any signature.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
	Region          = "us-east-1"
)

// Config is an aws.Config for a local endpoint with static test credentials,
// the standard retryer (few attempts, so failing tests fail fast) and our
// HTTP timeouts.
func Config(ctx context.Context, endpoint string) (aws.Config, error) {
	return awsconf.Load(ctx, awsconf.Options{
		Region:          Region,
		Endpoint:        endpoint,
		AccessKeyID:     AccessKeyID,
		SecretAccessKey: SecretAccessKey,
		MaxAttempts:     3,
	})
}

// loopback starts h on a fresh 127.0.0.1 port.
func loopback(h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	return srv, nil
}
