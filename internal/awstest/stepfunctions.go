package awstest

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/asl/engine/sfnlocal"
)

// StepFunctions is our own Step Functions API (sfnlocal over a fresh local
// engine) on 127.0.0.1: what the AWS SDK's sfn client reaches with an
// endpoint override, for the code that drives AWS Step Functions.
type StepFunctions struct {
	URL string
	srv *httptest.Server
}

// StartStepFunctions starts the server; the engine keeps its state
// machines and executions under dir.
func StartStepFunctions(dir string) (*StepFunctions, error) {
	e := engine.New(engine.Options{Store: &engine.FileStore{Dir: dir}})
	srv, err := loopback(&sfnlocal.Server{Engine: e})
	if err != nil {
		return nil, fmt.Errorf("start the local Step Functions API: %w", err)
	}
	return &StepFunctions{URL: srv.URL, srv: srv}, nil
}

// Close stops the server.
func (s *StepFunctions) Close() { s.srv.Close() }

// Config is an aws.Config for the server.
func (s *StepFunctions) Config(ctx context.Context) (aws.Config, error) {
	return Config(ctx, s.URL)
}

// CreateStateMachine creates a state machine through the API (as
// Terraform would) and returns its ARN.
func (s *StepFunctions) CreateStateMachine(ctx context.Context, name, definition string) (string, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return "", err
	}
	out, err := sfn.NewFromConfig(cfg).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String("arn:aws:iam::000000000000:role/local"),
	})
	if err != nil {
		return "", fmt.Errorf("create state machine %s: %w", name, err)
	}
	return aws.ToString(out.StateMachineArn), nil
}
