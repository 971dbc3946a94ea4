package awsconf_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/fault"
)

func httpErr(status int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("boom"),
	}}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		extra map[string]fault.Code
		want  fault.Code
	}{
		{"S3 NoSuchKey", &smithy.GenericAPIError{Code: "NoSuchKey"}, nil, fault.NotFound},
		{"S3 412", &smithy.GenericAPIError{Code: "PreconditionFailed"}, nil, fault.PreconditionFailed},
		{"DynamoDB condition", &smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, nil, fault.PreconditionFailed},
		{"SQS queue missing", &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue"}, nil, fault.NotFound},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, nil, fault.Transient},
		{"extra wins", &smithy.GenericAPIError{Code: "NotFound"}, map[string]fault.Code{"NotFound": fault.InvalidArgument}, fault.InvalidArgument},
		{"HEAD 404 without a code", httpErr(404), nil, fault.NotFound},
		{"412 without a code", httpErr(412), nil, fault.PreconditionFailed},
		{"416", httpErr(416), nil, fault.InvalidArgument},
		{"503", httpErr(503), nil, fault.Transient},
		{"429", httpErr(429), nil, fault.Transient},
		{"cancelled", fmt.Errorf("op: %w", context.Canceled), nil, fault.Canceled},
		{"deadline", context.DeadlineExceeded, nil, fault.Canceled},
		{"other", errors.New("mystery"), nil, fault.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := awsconf.Classify("s3 GetObject s3://b/k", tc.err, tc.extra)
			if got := fault.CodeOf(err); got != tc.want {
				t.Fatalf("code %s, want %s (%v)", got, tc.want, err)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("%v does not wrap the SDK error", err)
			}
		})
	}
	if awsconf.Classify("x", nil, nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

func TestLoadEndpointAndRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	cfg, err := awsconf.Load(context.Background(), awsconf.Options{Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != awsconf.DefaultRegion || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1" {
		t.Fatalf("region %q endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	if cfg.Retryer().MaxAttempts() != awsconf.DefaultMaxAttempts {
		t.Errorf("retryer attempts %d", cfg.Retryer().MaxAttempts())
	}
	if !awsconf.EndpointOverridden(cfg, "S3") {
		t.Error("endpoint override not seen")
	}
	plain, err := awsconf.Load(context.Background(), awsconf.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Region != "eu-west-1" || awsconf.EndpointOverridden(plain, "S3") {
		t.Errorf("plain config: region %q overridden %v", plain.Region, awsconf.EndpointOverridden(plain, "S3"))
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2")
	if !awsconf.EndpointOverridden(plain, "S3") || awsconf.EndpointOverridden(plain, "SQS") {
		t.Error("service-specific endpoint variable not honoured")
	}
}
