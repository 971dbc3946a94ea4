// Package awsconf builds the aws.Config every AWS adapter uses: region,
// optional endpoint override (tests and local servers), the SDK's standard
// retryer, and an HTTP client with bounded dial, TLS and response-header
// timeouts so a stuck connection cannot hang a Lambda invocation until its
// own timeout.
//
// Endpoint overrides follow the SDK's own environment support
// (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, see "Service-specific
// endpoints" in the AWS SDKs and Tools Reference Guide); Options.Endpoint
// sets the same thing in code.
package awsconf

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Defaults for Options.
const (
	DefaultMaxAttempts    = 5
	DefaultDialTimeout    = 5 * time.Second
	DefaultHeaderTimeout  = 30 * time.Second
	DefaultMaxBackoff     = 5 * time.Second
	DefaultRegion         = "us-east-1"
	defaultIdleConnTimout = 90 * time.Second
)

// Options tune the configuration. Zero values take the defaults.
type Options struct {
	// Region overrides AWS_REGION (Lambda sets AWS_REGION itself).
	Region string
	// Endpoint, when set, sends every service's requests there (a local
	// server); it is the in-code twin of AWS_ENDPOINT_URL.
	Endpoint string
	// StaticCredentials, when both set, replace the default chain (tests
	// against local servers, which accept any signature).
	AccessKeyID, SecretAccessKey string
	// MaxAttempts bounds the standard retryer's attempts per call.
	MaxAttempts int
	// MaxBackoff caps the retryer's backoff between attempts.
	MaxBackoff time.Duration
	// ResponseHeaderTimeout bounds the wait for a response's headers (not
	// the body, so long reads and long polls are governed by ctx). It must
	// exceed the longest long poll (SQS WaitTimeSeconds up to 20s).
	ResponseHeaderTimeout time.Duration
}

// Load resolves the configuration from the default sources (environment,
// shared config, the Lambda role) plus opts.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.ResponseHeaderTimeout <= 0 {
		opts.ResponseHeaderTimeout = DefaultHeaderTimeout
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithHTTPClient(HTTPClient(opts.ResponseHeaderTimeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = opts.MaxAttempts
				o.MaxBackoff = opts.MaxBackoff
			})
		}),
	}
	if opts.Region != "" {
		loaders = append(loaders, config.WithRegion(opts.Region))
	}
	if opts.AccessKeyID != "" && opts.SecretAccessKey != "" {
		loaders = append(loaders, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(opts.AccessKeyID, opts.SecretAccessKey, "")))
	}
	if opts.Endpoint != "" {
		loaders = append(loaders, config.WithBaseEndpoint(opts.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		// Local servers do not care; real AWS always has AWS_REGION set in
		// Lambda. A region is still needed to sign requests.
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}

// HTTPClient is the SDK's buildable client with bounded connection setup
// and response-header wait (it keeps WithTransportOptions, so AWS_CA_BUNDLE
// still works).
func HTTPClient(headerTimeout time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = DefaultDialTimeout
			d.KeepAlive = 30 * time.Second
		}).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = DefaultDialTimeout
			tr.ResponseHeaderTimeout = headerTimeout
			tr.ExpectContinueTimeout = time.Second
			tr.IdleConnTimeout = defaultIdleConnTimout
			tr.MaxIdleConnsPerHost = 64
		})
}

// EndpointOverridden reports whether requests for a service go to a custom
// endpoint (Options.Endpoint, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE>).
// S3 clients use path-style addressing then, since local servers do not
// resolve bucket subdomains.
func EndpointOverridden(cfg aws.Config, serviceEnv string) bool {
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return true
	}
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return true
	}
	return serviceEnv != "" && os.Getenv("AWS_ENDPOINT_URL_"+serviceEnv) != ""
}
