package lambdaentry

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/tasks/transform"
)

func env(m map[string]string) Env { return func(k string) string { return m[k] } }

// TestBatchResponse: only ids of the batch, each once, and [] (not null)
// on success — Lambda fails the whole batch on an unknown or empty id.
func TestBatchResponse(t *testing.T) {
	in := transform.Input{Records: []transform.Message{{MessageID: "a"}, {MessageID: "b"}}}
	cases := []struct {
		name     string
		failures []string
		want     string
	}{
		{"success", nil, `{"batchItemFailures":[]}`},
		{"one", []string{"b"}, `{"batchItemFailures":[{"itemIdentifier":"b"}]}`},
		{"unknown and repeated ids dropped", []string{"zzz", "a", "a", ""}, `{"batchItemFailures":[{"itemIdentifier":"a"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out transform.Output
			for _, id := range tc.failures {
				out.BatchItemFailures = append(out.BatchItemFailures, transform.ItemFailure{ItemIdentifier: id})
			}
			b, _ := json.Marshal(BatchResponse(in, out))
			if string(b) != tc.want {
				t.Errorf("got %s, want %s", b, tc.want)
			}
		})
	}
}

func TestEnvReaders(t *testing.T) {
	e := env(map[string]string{"N": "42", "BAD": "-1", "B": "true", "NB": "maybe", "S": " x "})
	if v, err := Required(e, "S"); v != "x" || err != nil {
		t.Errorf("Required = %q %v", v, err)
	}
	if _, err := Required(e, "MISSING"); err == nil || err.Error() != "MISSING: required but not set" {
		t.Errorf("Required(MISSING) = %v", err)
	}
	if n, err := Int64(e, "N", 7); n != 42 || err != nil {
		t.Errorf("Int64 = %d %v", n, err)
	}
	if n, err := Int64(e, "UNSET", 7); n != 7 || err != nil {
		t.Errorf("Int64 default = %d %v", n, err)
	}
	if _, err := Int64(e, "BAD", 7); err == nil || !strings.HasPrefix(err.Error(), "BAD:") {
		t.Errorf("Int64(BAD) = %v", err)
	}
	if b, err := Bool(e, "B", false); !b || err != nil {
		t.Errorf("Bool = %v %v", b, err)
	}
	if _, err := Bool(e, "NB", false); err == nil || !strings.HasPrefix(err.Error(), "NB:") {
		t.Errorf("Bool(NB) = %v", err)
	}
}

func TestBuildErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "ELT_HANDLER"},
		{map[string]string{"ELT_HANDLER": "ingest", "ELT_LOG_FORMAT": "xml"}, "ELT_LOG_FORMAT"},
		{map[string]string{"_HANDLER": "ingest", "ELT_QUEUE_URL": "http://q"}, "ELT_LEDGER_TABLE"},
		{map[string]string{"ELT_HANDLER": "nope"}, `unknown handler "nope"`},
	}
	for _, tc := range cases {
		_, _, err := Build(context.Background(), env(tc.env), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%v) = %v, want an error naming %s", tc.env, err, tc.want)
		}
	}
	h, name, err := Build(context.Background(), env(map[string]string{"ELT_HANDLER": "transform", "ELT_SILVER_BUCKET": "s", "AWS_REGION": "us-east-1"}), &bytes.Buffer{})
	if err != nil || h == nil || name != "transform" {
		t.Fatalf("Build(transform) = %v %q %v", h, name, err)
	}
	if _, err := h(context.Background(), json.RawMessage(`[1,2]`)); err == nil || !strings.Contains(err.Error(), "decode SQS event") {
		t.Errorf("transform on a non-SQS event: %v", err)
	}
}
