package validateinput

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/asl/engine"
)

const shipment = `{"record_type":"shipments","event_time":"2024-05-01T10:00:00Z","shipment_id":"S1","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":1.5}`

func TestHandle(t *testing.T) {
	task, err := New(Deps{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		schema   string
		input    string
		problems []string // "pointer: substring of message"; nil means valid
	}{
		{"valid record", "record_shipments.schema.json", shipment, nil},
		{"large integer kept exact", "record_shipments.schema.json", strings.Replace(shipment, `1.5`, `123456789012345678901234567890`, 1), nil},
		{"missing field and bad format", "record_shipments.schema.json",
			strings.Replace(strings.Replace(shipment, `"carrier":"DHL",`, ``, 1), `2024-05-01T10:00:00Z`, `yesterday`, 1),
			[]string{"/: missing properties: 'carrier'", "/event_time: 'yesterday' is not valid 'date-time'"}},
		{"wrong type, out of range, unknown field", "record_shipments.schema.json",
			`{"record_type":"shipments","event_time":"2024-05-01T10:00:00Z","shipment_id":"S1","origin":7,"destination":"Oslo","carrier":"DHL","weight_kg":-1,"colour":"red"}`,
			[]string{"/: additionalProperties 'colour' not allowed", "/origin: expected string, but got number", "/weight_kg: must be >= 0"}},
		{"pointer escapes", "record_shipments.schema.json", strings.Replace(shipment, `}`, `,"a/b~c":1}`, 1),
			[]string{"/: additionalProperties 'a/b~c' not allowed"}},
		{"not an object", "record_shipments.schema.json", `[1]`, []string{"/: expected object, but got array"}},
		{"no input", "record_shipments.schema.json", ``, []string{"/: expected object, but got null"}},
		{"unknown schema", "nope.schema.json", `{}`, []string{`/: unknown schema "nope.schema.json"`}},
		{"no schema", "", `{}`, []string{"/: no schema named"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := task.Handle(context.Background(), Input{Schema: tt.schema, Input: json.RawMessage(tt.input)})
			if tt.problems == nil {
				if err != nil || !out.Valid || out.Schema != tt.schema {
					t.Fatalf("out %+v err %v", out, err)
				}
				return
			}
			var ie *InvalidInputError
			if !errors.As(err, &ie) {
				t.Fatalf("err %v (%T), want *InvalidInputError", err, err)
			}
			if ie.ErrorName() != "ValidateInput.InvalidInput" {
				t.Fatal(ie.ErrorName())
			}
			if len(ie.Problems) != len(tt.problems) {
				t.Fatalf("problems %v, want %v", ie.Problems, tt.problems)
			}
			for i, want := range tt.problems {
				if got := ie.Problems[i].String(); !strings.HasPrefix(got, want) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// On the engine, a typed invalid input fails the task with the error name
// ValidateInput.InvalidInput, which a workflow's Catch can route.
func TestErrorNameOnEngine(t *testing.T) {
	task, _ := New(Deps{}, Config{})
	def := `{"StartAt":"V","States":{"V":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
"Parameters":{"FunctionName":"validate_input","Payload":{"schema":"record_shipments.schema.json","input.$":"$"}},"End":true}}}`
	m, err := engine.Compile([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Options{})
	eng.Tasks().Register("validate_input", engine.Typed(task.Handle))
	for _, tc := range []struct{ input, status, errName string }{
		{shipment, "SUCCEEDED", ""},
		{`{"record_type":"shipments"}`, "FAILED", "ValidateInput.InvalidInput"},
	} {
		x, err := eng.Execute(context.Background(), engine.StartInput{Machine: m, Input: tc.input})
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != tc.status || x.Error != tc.errName {
			t.Fatalf("%s: status %s error %s cause %s", tc.input, x.Status, x.Error, x.Cause)
		}
		if tc.errName != "" && !strings.Contains(x.Cause, "missing properties") {
			t.Errorf("cause %s", x.Cause)
		}
	}
}
