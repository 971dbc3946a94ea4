package sfnlocal

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Client returns an aws-sdk-go-v2 Step Functions client for a local
// endpoint ("http://127.0.0.1:8083"): fixed region, placeholder static
// credentials (the endpoint does not check signatures), one attempt per
// call. Commands that talk to Step Functions use the same client code for
// AWS and for the local engine; only the endpoint differs.
func Client(endpoint string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 1,
	})
}
