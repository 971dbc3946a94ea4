package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
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

// The gate's error policy, read off the generated definition: RunQuality
// retries exactly the Lambda transients and Quality.StoreUnavailable (an
// expectation failure is an output, and input or data errors would fail
// again); every Task state catches States.ALL.
func TestQualityGateErrorPolicy(t *testing.T) {
	def, err := QualityGate().Definition()
	if err != nil {
		t.Fatal(err)
	}
	var sm struct {
		States map[string]struct {
			Type  string
			Retry []struct{ ErrorEquals []string }
			Catch []struct {
				ErrorEquals []string
				Next        string
			}
		}
	}
	if err := json.Unmarshal(def, &sm); err != nil {
		t.Fatal(err)
	}
	want := append(append([]string(nil), lambdaTransient...), "Quality.StoreUnavailable")
	run := sm.States["RunQuality"]
	if len(run.Retry) != 1 || strings.Join(run.Retry[0].ErrorEquals, ",") != strings.Join(want, ",") {
		t.Fatalf("RunQuality retries %+v, want %v", run.Retry, want)
	}
	tasks := 0
	for name, st := range sm.States {
		if st.Type != "Task" {
			continue
		}
		tasks++
		if len(st.Catch) != 1 || st.Catch[0].ErrorEquals[0] != "States.ALL" {
			t.Errorf("%s: catch %+v", name, st.Catch)
		}
		for _, r := range st.Retry {
			for _, e := range r.ErrorEquals {
				if strings.HasPrefix(e, "Quality.") && e != "Quality.StoreUnavailable" || e == "States.ALL" || e == "States.TaskFailed" {
					t.Errorf("%s retries %s", name, e)
				}
			}
		}
	}
	if tasks != 4 {
		t.Fatalf("%d Task states", tasks)
	}
}
