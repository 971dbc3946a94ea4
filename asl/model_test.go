package asl

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// decodeNormalized decodes JSON with numbers as exact rationals so "2" and
// "2.0" compare equal while 12345678901234567890 keeps every digit.
func decodeNormalized(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return normalize(v)
}

func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(t))
		if !ok {
			return string(t)
		}
		return "num:" + r.RatString()
	case []any:
		for i := range t {
			t[i] = normalize(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = normalize(t[k])
		}
	}
	return v
}

func awsExamples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "aws-examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return files
}

// TestRoundTripAWSExamples: every AWS documentation example parses, encodes
// to the same JSON value, and encoding is a fixed point.
func TestRoundTripAWSExamples(t *testing.T) {
	for _, f := range awsExamples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sm, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := Encode(sm)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if got, want := decodeNormalized(t, out), decodeNormalized(t, data); !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip changed the document:\n%s", out)
			}
			sm2, err := Parse(out)
			if err != nil {
				t.Fatalf("re-Parse: %v", err)
			}
			out2, err := Encode(sm2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, out2) {
				t.Fatalf("encoding is not a fixed point:\n%s\n---\n%s", out, out2)
			}
			if !bytes.HasSuffix(out, []byte("}\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
				t.Fatalf("want exactly one trailing newline")
			}
		})
	}
}

func TestParseKeepsStateOrderAndNames(t *testing.T) {
	data := []byte(`{"StartAt":"Z","States":{"Z":{"Type":"Pass","Next":"A"},"A":{"Type":"Pass","Next":"M"},"M":{"Type":"Succeed"}}}`)
	sm, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := sm.States.Names(); !reflect.DeepEqual(got, []string{"Z", "A", "M"}) {
		t.Fatalf("Names = %v", got)
	}
	var seen []string
	for name, st := range sm.States.All() {
		if st.Name != name {
			t.Fatalf("state %q has Name %q", name, st.Name)
		}
		seen = append(seen, name+":"+st.Type)
	}
	if want := []string{"Z:Pass", "A:Pass", "M:Succeed"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("All = %v", seen)
	}
	if sm.States.Get("missing") != nil || sm.States.Get("M").Type != TypeSucceed {
		t.Fatal("Get")
	}
}

func TestParseNullVersusAbsentPaths(t *testing.T) {
	data := []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"ResultPath":"$.r","End":true}}}`)
	sm, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	a := sm.States.Get("A")
	if !a.InputPath.Set || !a.InputPath.Null {
		t.Errorf("InputPath = %+v, want explicit null", a.InputPath)
	}
	if a.OutputPath.Set {
		t.Errorf("OutputPath = %+v, want absent", a.OutputPath)
	}
	if p, ok := a.OutputPath.Or("$"); !ok || p != "$" {
		t.Errorf("OutputPath.Or = %q %v", p, ok)
	}
	if p, ok := a.ResultPath.Or("$"); !ok || p != "$.r" {
		t.Errorf("ResultPath.Or = %q %v", p, ok)
	}
	if _, ok := a.InputPath.Or("$"); ok {
		t.Errorf("InputPath.Or: want ok=false for null")
	}
	out, _ := Encode(sm)
	if !strings.Contains(string(out), `"InputPath": null`) || strings.Contains(string(out), "OutputPath") {
		t.Fatalf("encoded:\n%s", out)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown state field", `{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B"}}}`, `unknown field "Nxt"`},
		{"unknown top field", `{"StartAt":"A","Stats":{}}`, `unknown field "Stats"`},
		{"duplicate state", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}}}`, "duplicate state name"},
		{"unknown choice rule field", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEqual":"a","Next":"A"}]}}}`, `unknown field "StringEqual"`},
		{"unknown field in branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Bogus":1}}}],"End":true}}}`, `unknown field "Bogus"`},
		{"path not string", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":3,"End":true}}}`, "string or null"},
		{"states not object", `{"StartAt":"A","States":[]}`, "States must be an object"},
		{"trailing data", `{"StartAt":"A","States":{}} {}`, "unexpected data"},
		{"not json", `{`, "parse state machine"},
		{"jsonata machine", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, `QueryLanguage "JSONata" is not supported`},
		{"jsonata state", `{"StartAt":"A","States":{"A":{"Type":"Succeed","QueryLanguage":"JSONata"}}}`, `QueryLanguage "JSONata" is not supported`},
		{"jsonata fields", `{"StartAt":"A","States":{"A":{"Type":"Pass","Output":{},"End":true}}}`, `unknown field "Output"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestValueKeepsOrderAndNumbers(t *testing.T) {
	in := `{"z":1,"a":[true,null,"x",{"k":12345678901234567890123}],"m":1.50}`
	var v Value
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("got %s want %s", out, in)
	}
	if got, _ := v.Get("m"); got.Number != "1.50" {
		t.Fatalf("m = %v", got)
	}
}

func TestChoiceRuleComparison(t *testing.T) {
	var r ChoiceRule
	if err := json.Unmarshal([]byte(`{"Variable":"$.n","NumericGreaterThanEquals":20}`), &r); err != nil {
		t.Fatal(err)
	}
	op, v, ok := r.Comparison()
	if !ok || op != "NumericGreaterThanEquals" || v != json.Number("20") {
		t.Fatalf("Comparison = %q %v %v", op, v, ok)
	}
	if n := len(ComparisonOperators()); n != 39 {
		t.Fatalf("%d comparison operators, want 39 (11 string, 10 numeric, 2 boolean, 10 timestamp, 6 type tests)", n)
	}
}

func TestEncodeDoesNotEscapeHTML(t *testing.T) {
	sm, err := New("a<b & c>d").States(Pass("P<1>").Parameters(Obj("k&", "<v>")).ResultPath("$['a&b']").End()).Build()
	if err != nil {
		t.Fatal(err)
	}
	out := mustEncode(t, sm)
	for _, want := range []string{`"a<b & c>d"`, `"P<1>"`, `"k&": "<v>"`, `"$['a&b']"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}
