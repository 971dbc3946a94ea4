// Command bootstrap is the one Lambda binary for every function (custom
// runtime provided.al2023; build with -tags lambda.norpc). The handler name
// in ELT_HANDLER (or _HANDLER) selects the function; see internal/lambdaentry.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/serverless-elt/elt/internal/lambdaentry"
)

func main() {
	err := lambdaentry.Main(context.Background(), os.Getenv, os.Stderr, func(h lambdaentry.Handler) {
		lambda.Start(func(ctx context.Context, event json.RawMessage) (any, error) { return h(ctx, event) })
	})
	if err != nil {
		os.Exit(1)
	}
}
