package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Handler runs a Task state's work. input is the state's effective input
// (after InputPath and Parameters; for lambda:invoke, the Payload), as
// decoded JSON values (map[string]any, []any, string, json.Number, bool,
// nil). The result must be JSON-encodable. An error surfaces as an ASL
// error: see Error and ErrorNamer for how its name is chosen.
type Handler func(ctx context.Context, input any) (any, error)

// Typed adapts a typed handler func(ctx, In) (Out, error), the shape of
// our tasks and of aws-lambda-go handlers (lambda/entry_generic.go): the
// input is decoded into In, and Out is encoded back to JSON values. An
// input that does not decode into In fails the task with the error name
// "InvalidInput" (which States.TaskFailed and States.ALL match).
func Typed[In, Out any](f func(context.Context, In) (Out, error)) Handler {
	return func(ctx context.Context, input any) (any, error) {
		var in In
		b, err := json.Marshal(input)
		if err != nil {
			return nil, &Error{Name: "InvalidInput", Cause: err.Error()}
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, &Error{Name: "InvalidInput", Cause: fmt.Sprintf("decode %T: %v", in, err)}
		}
		out, err := f(ctx, in)
		if err != nil {
			return nil, err
		}
		return toJSONValue(out)
	}
}

// Raw adapts a handler that works on JSON text: it receives the effective
// input encoded (numbers exactly as they came) and returns JSON text.
func Raw(f func(context.Context, json.RawMessage) (json.RawMessage, error)) Handler {
	return func(ctx context.Context, input any) (any, error) {
		in, err := json.Marshal(input)
		if err != nil {
			return nil, &Error{Name: "InvalidInput", Cause: err.Error()}
		}
		out, err := f(ctx, in)
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON(out)
		if err != nil {
			return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("task result is not JSON: %v", err)}
		}
		return v, nil
	}
}

// toJSONValue turns any JSON-encodable Go value into decoded JSON values
// (numbers as json.Number).
func toJSONValue(v any) (any, error) {
	switch v.(type) {
	case nil, string, bool, json.Number:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode task result: %w", err)
	}
	return decodeJSON(b)
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// Registry maps Task resources to handlers. Keys are tried in this order:
// the Resource as written; for arn:aws:states:::lambda:invoke the
// FunctionName parameter, then the function name inside a function ARN
// (without version or alias); for a Lambda function ARN Resource, the
// function name. Register a handler under the function name to serve both
// styles. A Registry is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Handler{}} }

// Register binds name (a resource ARN, a function name or a function ARN)
// to h, replacing an earlier binding.
func (r *Registry) Register(name string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[name] = h
}

func (r *Registry) get(name string) (Handler, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	h, ok := r.m[name]
	return h, ok
}

// lambdaFunctionName returns NAME from arn:aws:lambda:R:A:function:NAME[:QUALIFIER]
// and from a partial "A:function:NAME" or plain "NAME[:QUALIFIER]".
func lambdaFunctionName(s string) string {
	if i := strings.Index(s, "function:"); i >= 0 {
		s = s[i+len("function:"):]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

// lookupFunction finds the handler of a Lambda function named (or ARN'd) fn.
func (r *Registry) lookupFunction(fn string) (Handler, bool) {
	if h, ok := r.get(fn); ok {
		return h, true
	}
	return r.get(lambdaFunctionName(fn))
}

// Resource kinds the engine distinguishes.
const (
	resLambdaInvoke = "arn:aws:states:::lambda:invoke"
)

// integrationPattern splits ".sync", ".sync:2" and ".waitForTaskToken" off
// an arn:aws:states::: resource.
func integrationPattern(resource string) (base, pattern string) {
	for _, p := range []string{".sync:2", ".sync", ".waitForTaskToken"} {
		if b, ok := strings.CutSuffix(resource, p); ok {
			return b, p
		}
	}
	return resource, ""
}

// lambdaInvokeResult wraps a function's result the way the lambda:invoke
// integration returns it.
func lambdaInvokeResult(payload any) map[string]any {
	return map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         payload,
		"SdkHttpMetadata": map[string]any{
			"HttpHeaders":    map[string]any{"Content-Type": "application/json"},
			"HttpStatusCode": json.Number("200"),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": "00000000-0000-0000-0000-000000000000"},
		"StatusCode":          json.Number("200"),
	}
}
