package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/schema"
)

func TestProblemString(t *testing.T) {
	p := Problem{Pointer: "/States/Foo/Next", Rule: "next-target-missing", Message: `no state named "Bar"`}
	if got, want := p.String(), `/States/Foo/Next: next-target-missing: no state named "Bar"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestEveryProblemReported checks that one document with many unrelated
// mistakes gets all of them, in document order.
func TestEveryProblemReported(t *testing.T) {
	def := `{
  "StartAt": "Start",
  "Version": "0.9",
  "States": {
    "Start": {"Type": "Task", "Resource": "lambda", "TimeoutSeconds": 10, "HeartbeatSeconds": 20, "Next": "Choose",
      "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}, {"ErrorEquals": ["E"], "JitterStrategy": "SOME"}]},
    "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEquals": 1}], "Default": "Missing"},
    "Wait": {"Type": "Wait", "Timestamp": "2016-03-14 01:59:00", "End": true},
    "Pass": {"Type": "Pass", "Retry": [], "ResultPath": "$.a[*]", "Parameters": {"x.$": "States.Nope()"}, "End": true}
  }
}`
	want := []string{
		"/Version enum",
		"/States/Start/Resource resource-invalid",
		"/States/Start/HeartbeatSeconds heartbeat-not-below-timeout",
		"/States/Start/Retry/0 states-all-not-last",
		"/States/Start/Retry/0/BackoffRate out-of-range",
		"/States/Start/Retry/1/JitterStrategy enum",
		"/States/Choose/Choices/0 choice-rule-next-missing",
		"/States/Choose/Choices/0/StringEquals choice-operand-type",
		"/States/Choose/Default next-target-missing",
		"/States/Wait state-unreachable",
		"/States/Wait/Timestamp timestamp-invalid",
		"/States/Pass state-unreachable",
		"/States/Pass/Retry field-not-allowed",
		"/States/Pass/ResultPath reference-path-invalid",
		"/States/Pass/Parameters/x.$ payload-invalid",
	}
	var got []string
	for _, p := range definition([]byte(def), nil) {
		got = append(got, p.Pointer+" "+p.Rule)
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

func TestValidIsNil(t *testing.T) {
	got := Definition([]byte(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`))
	if got != nil {
		t.Errorf("Definition = %#v, want nil", got)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	got := Definition([]byte("{\n  \"StartAt\": \"A\",\n  \"States\": {,}\n}"))
	if len(got) != 1 || got[0].Rule != "json-syntax" || !strings.Contains(got[0].Message, "line 3") {
		t.Errorf("got %v, want one json-syntax problem on line 3", got)
	}
}

// testSchema is a small strict schema in the shape invopop/jsonschema
// generates, to exercise the schema layer before and independently of the
// generated asl.schema.json.
const testSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$ref": "#/$defs/StateMachine",
  "$defs": {
    "StateMachine": {
      "type": "object",
      "properties": {
        "Comment": {"type": "string"},
        "StartAt": {"type": "string"},
        "States": {"type": "object", "additionalProperties": {"$ref": "#/$defs/State"}}
      },
      "additionalProperties": false,
      "required": ["StartAt", "States"]
    },
    "State": {
      "type": "object",
      "properties": {
        "Type": {"type": "string"},
        "Next": {"type": "string"},
        "End": {"type": "boolean"},
        "Result": true,
        "Comment": {"type": "string", "maxLength": 5}
      },
      "additionalProperties": false,
      "required": ["Type"]
    }
  }
}`

func TestSchemaLayer(t *testing.T) {
	s, err := compileSchema([]byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, def string
		want      []string
	}{
		{
			name: "schema-only problem, pointer unescaped from the library's URL form",
			def:  `{"StartAt": "a b/c", "States": {"a b/c": {"Type": "Succeed", "Comment": "too long"}}}`,
			want: []string{"/States/a b~1c/Comment schema"},
		},
		{
			name: "semantic problem at the same pointer hides the schema one",
			def:  `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": 1, "End": true}}}`,
			want: []string{"/States/A next-and-end", "/States/A/Next field-type"},
		},
		{
			name: "unknown member reported once, by the semantic rule",
			def:  `{"StartAt": "A", "States": {"A": {"Type": "Succeed", "Bogus": 1}}}`,
			want: []string{"/States/A/Bogus field-not-allowed"},
		},
		{
			name: "valid",
			def:  `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range definition([]byte(tc.def), s) {
				got = append(got, p.Pointer+" "+p.Rule)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGeneratedSchema compiles schema/asl.schema.json once aslgen has
// generated it, and checks the AWS examples against it.
func TestGeneratedSchema(t *testing.T) {
	raw, err := schema.Read(schemaFile)
	if err != nil {
		t.Skipf("no generated schema yet: %v", err)
	}
	s, err := compileSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/valid/*.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		root, err := parseTree(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range schemaProblems(s, root.plain()) {
			t.Errorf("%s: %s", filepath.Base(f), p)
		}
	}
}

// FuzzDefinition: any input, valid JSON or not, must give problems without
// panicking, and a document the validator accepts must not be re-reported.
func FuzzDefinition(f *testing.F) {
	files, _ := filepath.Glob("testdata/valid/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		``, `null`, `[]`, `{"States": []}`, `{"StartAt": 1, "States": {"A": 1}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Not":{"And":[{}]}}}]}}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Map","ItemProcessor":{"ProcessorConfig":[],"States":{"B":{"Type":"Parallel","Branches":[{}]}}}}}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"States.Format('{}', States.Array(","b":[{"c.$":null}]},"End":true}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range Definition(data) {
			if p.Rule == "" || p.Message == "" {
				t.Fatalf("problem without rule or message: %#v", p)
			}
			if p.Pointer != "" && p.Pointer[0] != '/' {
				t.Fatalf("pointer %q does not start with /", p.Pointer)
			}
		}
	})
}

func TestLocate(t *testing.T) {
	data := []byte("{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}\n  }\n}\n")
	cases := []struct {
		pointer   string
		line, col int
	}{
		{"", 1, 1},
		{"/StartAt", 2, 14},
		{"/States/A", 4, 10},
		{"/States/A/Next", 4, 35},
		{"/States/A/Missing", 4, 10},
	}
	for _, tc := range cases {
		line, col, ok := Locate(data, tc.pointer)
		if !ok || line != tc.line || col != tc.col {
			t.Errorf("Locate(%q) = %d:%d %v, want %d:%d", tc.pointer, line, col, ok, tc.line, tc.col)
		}
	}
	if _, _, ok := Locate([]byte("{"), "/States"); ok {
		t.Errorf("Locate on malformed JSON with a pointer reported ok")
	}
}

// TestModelExamples cross-checks the AWS documentation examples that package
// asl round-trips (asl/testdata/aws-examples, all valid by its README): the
// validator must accept every one of them.
func TestModelExamples(t *testing.T) {
	files, _ := filepath.Glob("../testdata/aws-examples/*.json")
	if len(files) == 0 {
		t.Skip("asl/testdata/aws-examples not present")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Definition(data) {
			t.Errorf("%s: %s", filepath.Base(f), p)
		}
	}
}

// BenchmarkDefinition measures one validation of the distributed Map example
// (schema included): go test -run '^$' -bench Definition ./asl/validate/
func BenchmarkDefinition(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/map-distributed-csv.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := Definition(data); ps != nil {
			b.Fatal(ps)
		}
	}
}
