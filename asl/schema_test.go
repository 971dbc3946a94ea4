package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := JSONSchemaJSON()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///asl.schema.json", bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///asl.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile with santhosh-tekuri/jsonschema/v5: %v", err)
	}
	return s
}

func decodeUseNumber(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaAcceptsAWSExamples: the generated schema compiles and accepts
// every AWS documentation example (distributed Map, callback tasks, .sync).
func TestSchemaAcceptsAWSExamples(t *testing.T) {
	s := compileSchema(t)
	for _, f := range awsExamples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(decodeUseNumber(t, data)); err != nil {
				t.Fatalf("rejected: %#v", err)
			}
		})
	}
}

func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	tests := []struct {
		name, doc, want string
	}{
		{"no StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "StartAt"},
		{"empty States", `{"StartAt":"A","States":{}}`, "minProperties"},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Sleep"}}}`, "Type"},
		{"task without resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, "Resource"},
		{"field not allowed for type", `{"StartAt":"A","States":{"A":{"Type":"Pass","Resource":"x","End":true}}}`, "Resource"},
		{"fail with Next", `{"StartAt":"A","States":{"A":{"Type":"Fail","Next":"A"}}}`, "Next"},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "oneOf"},
		{"both Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, "oneOf"},
		{"wait two durations", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "oneOf"},
		{"map no processor", `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`, "oneOf"},
		{"bad jitter", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["E"],"JitterStrategy":"HALF"}],"End":true}}}`, "JitterStrategy"},
		{"backoff below 1", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["E"],"BackoffRate":0.5}],"End":true}}}`, "BackoffRate"},
		{"catch without Next", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`, "Next"},
		{"bad mode", `{"StartAt":"A","States":{"A":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"FAST"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}}}`, "Mode"},
		{"long name", `{"StartAt":"A","States":{"` + strings.Repeat("x", 81) + `":{"Type":"Succeed"}}}`, "maxLength"},
		{"ResultPath number", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":1,"End":true}}}`, "ResultPath"},
		{"unknown top-level", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}},"Timeout":1}`, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(decodeUseNumber(t, []byte(tt.doc)))
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("accepted (err %v)", err)
			}
			if msg := ve.GoString(); !strings.Contains(msg, tt.want) {
				t.Fatalf("error does not mention %q:\n%s", tt.want, msg)
			}
		})
	}
}

func TestAllowedFieldsMatchStateStruct(t *testing.T) {
	// Every allowed field name is a real JSON field of State.
	known := map[string]bool{}
	schema := JSONSchema()
	def := schema.Definitions["State"]
	for pair := def.Properties.Oldest(); pair != nil; pair = pair.Next() {
		known[pair.Key] = true
	}
	for _, typ := range StateTypes {
		for _, f := range AllowedFields(typ) {
			if !known[f] {
				t.Errorf("%s: allowed field %s is not a State property", typ, f)
			}
		}
	}
	if AllowedFields("Nope") != nil {
		t.Error("unknown type has fields")
	}
}
