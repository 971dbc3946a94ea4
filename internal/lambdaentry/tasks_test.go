package lambdaentry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type namedErr struct{ name, cause string }

func (e *namedErr) Error() string      { return "wrapped: " + e.cause }
func (e *namedErr) ErrorName() string  { return e.name }
func (e *namedErr) ErrorCause() string { return e.cause }

// TestLambdaError: Step Functions matches Retry/Catch on the function
// error's errorType, which aws-lambda-go takes from an
// InvokeResponse_Error as is (else the Go type name).
func TestLambdaError(t *testing.T) {
	plain := errors.New("boom")
	cases := []struct {
		name     string
		err      error
		wantType string
		wantMsg  string
	}{
		{"named, wrapped", fmt.Errorf("ctx: %w", &namedErr{"Replay.StoreUnavailable", "s3 down"}), "Replay.StoreUnavailable", "s3 down"},
		{"invalid input", &InvalidInputError{Task: "replay", Err: errors.New("bad")}, "InvalidInput", "replay: decode input: bad"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ire messages.InvokeResponse_Error
			if !errors.As(LambdaError(tc.err), &ire) {
				t.Fatalf("LambdaError(%v) = %#v, not an InvokeResponse_Error", tc.err, LambdaError(tc.err))
			}
			if ire.Type != tc.wantType || ire.Message != tc.wantMsg {
				t.Errorf("got {%q %q}, want {%q %q}", ire.Type, ire.Message, tc.wantType, tc.wantMsg)
			}
		})
	}
	if LambdaError(plain) != plain || LambdaError(nil) != nil {
		t.Errorf("an unnamed error must pass through unchanged")
	}
}

// TestTaskAdapter: payloads decode with UseNumber; a payload of the wrong
// shape is InvalidInput; task errors pass through with their names.
func TestTaskAdapter(t *testing.T) {
	type in struct {
		N   any    `json:"n"`
		Key string `json:"key"`
	}
	h := task("probe", discard(), func(_ context.Context, v in) (map[string]any, error) {
		if v.Key == "fail" {
			return nil, &namedErr{"Probe.Failed", "asked to"}
		}
		return map[string]any{"n": v.N, "type": fmt.Sprintf("%T", v.N)}, nil
	})
	out, err := h(context.Background(), json.RawMessage(`{"n":12345678901234567890,"key":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	if string(b) != `{"n":12345678901234567890,"type":"json.Number"}` {
		t.Errorf("output %s", b)
	}
	if _, err := h(context.Background(), json.RawMessage(`[1]`)); errorName(err) != "InvalidInput" {
		t.Errorf("array payload: %v (name %q)", err, errorName(err))
	}
	if _, err := h(context.Background(), json.RawMessage(`{"key":"fail"}`)); errorName(err) != "Probe.Failed" {
		t.Errorf("task error: %v", err)
	}
}

func TestPrefixAndTempDir(t *testing.T) {
	e := env(map[string]string{"P": "ge/results", "ABS": "/x", EnvTempDir: t.TempDir()})
	if p, err := prefix(e, "P", "d/"); p != "ge/results/" || err != nil {
		t.Errorf("prefix = %q %v", p, err)
	}
	if p, err := prefix(e, "UNSET", "d/"); p != "d/" || err != nil {
		t.Errorf("prefix default = %q %v", p, err)
	}
	if _, err := prefix(e, "ABS", "d/"); err == nil || !strings.HasPrefix(err.Error(), "ABS:") {
		t.Errorf("prefix(/x) = %v", err)
	}
	if _, err := tempDir(e); err != nil {
		t.Errorf("tempDir: %v", err)
	}
	bad := env(map[string]string{EnvTempDir: t.TempDir() + "/missing"})
	if _, err := tempDir(bad); err == nil || !strings.HasPrefix(err.Error(), EnvTempDir+":") {
		t.Errorf("tempDir(missing) = %v", err)
	}
}

// TestValidateInputEntry: the built function decodes the workflow's Payload
// and names an invalid input ValidateInput.InvalidInput for the Catch.
func TestValidateInputEntry(t *testing.T) {
	h, name, err := Build(context.Background(), env(map[string]string{"ELT_HANDLER": "validate_input", "AWS_REGION": "us-east-1"}), &bytes.Buffer{})
	if err != nil || name != "validate_input" {
		t.Fatalf("Build = %q %v", name, err)
	}
	out, err := h(context.Background(), json.RawMessage(`{"schema":"ops_input.schema.json","input":{}}`))
	var ire messages.InvokeResponse_Error
	if !errors.As(err, &ire) || ire.Type != "ValidateInput.InvalidInput" {
		t.Fatalf("empty ops input: %v %v, want ValidateInput.InvalidInput", out, err)
	}
	if _, err := h(context.Background(), json.RawMessage(`"just a string"`)); !errors.As(err, &ire) || ire.Type != "InvalidInput" {
		t.Fatalf("string payload: %v", err)
	}
}
