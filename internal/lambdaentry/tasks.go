package lambdaentry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// errorNamer and errorCauser are asl/engine's ErrorNamer and ErrorCauser
// (the task errors' contract), restated so the bootstrap does not link the
// engine.
type (
	errorNamer  interface{ ErrorName() string }
	errorCauser interface{ ErrorCause() string }
)

// Environment variables of the workflow-task functions.
const (
	EnvGlueDatabase   = "ELT_GLUE_DATABASE"
	EnvSilverPrefix   = "ELT_SILVER_PREFIX"
	EnvBronzePrefix   = "ELT_BRONZE_PREFIX"
	EnvTempDir        = "ELT_TEMP_DIR"
	EnvQualityGateArn = "ELT_QUALITY_GATE_ARN"
)

// Defaults shared with the embedded stack (internal/embedded.Config) and the
// prefixes Terraform grants (terraform/envs/dev).
const (
	DefaultSilverPrefix = "silver/"
	DefaultBronzePrefix = "bronze/"
)

// InvalidInputError is a workflow payload that does not decode into the
// task's Input. Its name is the one engine.Typed gives the same failure in
// embedded runs, so a workflow's Catch behaves the same on both targets.
type InvalidInputError struct {
	Task string
	Err  error
}

func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("%s: decode input: %v", e.Task, e.Err)
}
func (e *InvalidInputError) Unwrap() error     { return e.Err }
func (e *InvalidInputError) ErrorName() string { return "InvalidInput" }

// task adapts a typed task handler (tasks/<name>: Handle(ctx, Input)
// (Output, error)) to a Lambda handler. The payload is what the workflow's
// lambda:invoke Task passes as Payload; numbers are decoded with UseNumber so
// large integers in free-form fields survive. The output is the task's
// Output, which Step Functions sees as $.Payload.
func task[In, Out any](name string, log *slog.Logger, f func(context.Context, In) (Out, error)) Handler {
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		var in In
		d := json.NewDecoder(bytes.NewReader(event))
		d.UseNumber()
		if err := d.Decode(&in); err != nil {
			return nil, &InvalidInputError{Task: name, Err: err}
		}
		out, err := f(ctx, in)
		if err != nil {
			log.Error(name+".failed", "error_name", errorName(err), "err", err.Error())
			return nil, err
		}
		return out, nil
	}
}

// errorName is the ASL error name a task error carries (engine.ErrorNamer
// anywhere in the chain), or "" when it names none.
func errorName(err error) string {
	var en errorNamer
	if errors.As(err, &en) {
		return en.ErrorName()
	}
	return ""
}

// LambdaError turns a task error into the Lambda function error Step
// Functions matches Retry and Catch on. Step Functions takes a failed
// invocation's error name from the function's errorType; aws-lambda-go sets
// errorType to the Go type name (lambda/errors.go) unless the handler
// returns a messages.InvokeResponse_Error, which it passes through. So an
// error that names itself (Quality.InvalidInput, Replay.StoreUnavailable,
// ...) becomes that value, with its cause as the message; other errors are
// returned unchanged.
func LambdaError(err error) error {
	if err == nil {
		return nil
	}
	name := errorName(err)
	if name == "" {
		return err
	}
	msg := err.Error()
	var ec errorCauser
	if errors.As(err, &ec) {
		msg = ec.ErrorCause()
	}
	return messages.InvokeResponse_Error{Message: msg, Type: name}
}

// prefix reads an optional key prefix, normalised to end in "/".
func prefix(env Env, name, def string) (string, error) {
	v := strings.TrimSpace(env(name))
	if v == "" {
		return def, nil
	}
	if strings.HasPrefix(v, "/") {
		return "", &ConfigError{Var: name, Reason: fmt.Sprintf("%q must not start with /", v)}
	}
	return strings.TrimSuffix(v, "/") + "/", nil
}

// tempDir is scratch space for tasks that stage files: ELT_TEMP_DIR, else
// the process temp dir (/tmp on Lambda). It must exist and be writable.
func tempDir(env Env) (string, error) {
	dir := strings.TrimSpace(env(EnvTempDir))
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, ".elt-probe-*")
	if err != nil {
		return "", &ConfigError{Var: EnvTempDir, Reason: fmt.Sprintf("%s is not a writable directory: %v", dir, err)}
	}
	f.Close()
	os.Remove(f.Name())
	return dir, nil
}
