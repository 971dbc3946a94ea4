package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/validateinput"
)

// The gate has no separate validation state: the quality task checks the
// fields it uses and fails with Quality.InvalidInput. This pins that the
// task is at least as strict as schema/quality_gate_input.schema.json
// (which `elt ge start` can check before starting; validate_input asserts
// format "date", so calendar-impossible dates fail both), and accepts what
// the schema accepts.
func TestQualityGateSchemaAgreesWithTask(t *testing.T) {
	st, err := fsstore.New(filepath.Join(t.TempDir(), "store"), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	task, err := quality.New(quality.Deps{Store: st, Log: slog.New(slog.DiscardHandler)}, quality.Config{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := validateinput.New(validateinput.Deps{}, validateinput.Config{})
	tests := []struct {
		input       string
		schemaValid bool
	}{
		{`{"record_type":"shipments","dt":"2024-05-01","silver_bucket":"silver"}`, true},
		{`{"record_type":"shipments","dt":"2024-05-01","silver_bucket":"silver","silver_prefix":"lake/silver/","result_prefix":"ge/results","quarantine_prefix":"q","catalog_database":"elt"}`, true},
		{`{"record_type":"tracking_events","dt":"2024-12-31","silver_bucket":"my-silver-bucket"}`, true},
		{`{"record_type":"shipments","dt":"2024-02-30","silver_bucket":"silver"}`, false},
		{`{"dt":"2024-05-01","silver_bucket":"silver"}`, false},
		{`{"record_type":"Shipments","dt":"2024-05-01","silver_bucket":"silver"}`, false},
		{`{"record_type":"shipments","dt":"2024-5-1","silver_bucket":"silver"}`, false},
		{`{"record_type":"shipments","dt":"2024-13-01","silver_bucket":"silver"}`, false},
		{`{"record_type":"shipments","silver_bucket":"silver"}`, false},
		{`{"record_type":"shipments","dt":"2024-05-01","silver_bucket":"ab"}`, false},
		{`{"record_type":"shipments","dt":"2024-05-01"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			_, verr := v.Handle(context.Background(), validateinput.Input{Schema: "quality_gate_input.schema.json", Input: json.RawMessage(tt.input)})
			if (verr == nil) != tt.schemaValid {
				t.Fatalf("schema valid %v, want %v (%v)", verr == nil, tt.schemaValid, verr)
			}
			var in quality.Input
			if err := json.Unmarshal([]byte(tt.input), &in); err != nil {
				t.Fatal(err)
			}
			_, err := task.Handle(context.Background(), in)
			var named interface{ ErrorName() string }
			taskInvalid := errors.As(err, &named) && named.ErrorName() == quality.ErrInvalidInput
			if taskInvalid != !tt.schemaValid {
				t.Fatalf("task error %v; schema valid %v", err, tt.schemaValid)
			}
		})
	}
}
