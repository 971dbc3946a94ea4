package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/asl/intrinsic"
	"github.com/serverless-elt/elt/asl/jsonpath"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const ctxDoc = `{"Execution": {"Id": "arn:aws:states:us-east-1:000000000000:execution:m:run-1", "Name": "run-1"},
  "State": {"Name": "Step"}, "Map": {"Item": {"Index": 2, "Value": {"id": "x"}}}}`

func TestEval(t *testing.T) {
	tests := []struct{ name, tmpl, input, want string }{
		// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
		{"aws docs Parameters",
			`{"comment": "Selecting what I care about.", "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}}`,
			`{"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small", "material": "cotton"}, "availability": "in stock", "sku": "2317", "cost": "$23"}}`,
			`{"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}}`},
		// Same page, ResultSelector on an EMR createCluster.sync result.
		{"aws docs ResultSelector",
			`{"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"}`,
			`{"resourceType": "elasticmapreduce", "resource": "createCluster.sync", "output": {"SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId": "r"}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}`,
			`{"ResourceType": "elasticmapreduce", "ClusterId": "AKIAIOSFODNN7EXAMPLE"}`},
		{"context object paths", `{"id.$": "$$.Execution.Name", "item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "all.$": "$$.State"}`, `{}`,
			`{"id": "run-1", "item": {"id": "x"}, "index": 2, "all": {"Name": "Step"}}`},
		{"whole input", `{"in.$": "$"}`, `{"a": [1, 2]}`, `{"in": {"a": [1, 2]}}`},
		{"intrinsic", `{"greeting.$": "States.Format('Hi {} from {}', $.name, $$.Execution.Name)", "n.$": "States.MathAdd($.k, 1)"}`, `{"name": "Ann", "k": 41}`,
			`{"greeting": "Hi Ann from run-1", "n": 42}`},
		{"nested objects and arrays are walked", `{"a": [{"b.$": "$.x"}, "lit.$", 3, [{"c.$": "$.y[1]"}]], "d": {"e": {"f.$": "$.x"}}}`, `{"x": true, "y": [1, 2]}`,
			`{"a": [{"b": true}, "lit.$", 3, [{"c": 2}]], "d": {"e": {"f": true}}}`},
		{"indefinite path gives an array", `{"cheap.$": "$.items[?(@.price < 10)].name"}`, `{"items": [{"name": "a", "price": 5}, {"name": "b", "price": 50}]}`,
			`{"cheap": ["a"]}`},
		{"literals copied", `{"n": 1.50, "s": "$.not-a-path", "b": false, "z": null, "o": {}}`, `{}`, `{"n": 1.50, "s": "$.not-a-path", "b": false, "z": null, "o": {}}`},
		{"non-object template", `"just text"`, `{}`, `"just text"`},
		{"big numbers exact", `{"v.$": "$.big"}`, `{"big": 123456789012345678901234567890}`, `{"v": 123456789012345678901234567890}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, input := decode(t, tc.tmpl), decode(t, tc.input)
			before := encode(t, input)
			got, err := Eval(tmpl, input, decode(t, ctxDoc), intrinsic.Env{})
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if g, w := encode(t, got), encode(t, decode(t, tc.want)); g != w {
				t.Fatalf("Eval = %s, want %s", g, w)
			}
			if encode(t, input) != before || encode(t, tmpl) != encode(t, decode(t, tc.tmpl)) {
				t.Fatal("Eval mutated its input or template")
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct{ name, tmpl, errName, cause string }{
		{"missing input path", `{"a": {"b.$": "$.nope"}}`, intrinsic.ErrRuntime, "field 'b.$' could not be found in the input"},
		{"missing context path", `{"b.$": "$$.Task.Token"}`, intrinsic.ErrRuntime, "could not be found in the context object"},
		{"intrinsic failure", `{"b.$": "States.ArrayGetItem($.arr, 5)"}`, intrinsic.ErrIntrinsicFailure, "out of bounds"},
		{"malformed template", `{"b.$": 5}`, intrinsic.ErrRuntime, "must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Eval(decode(t, tc.tmpl), decode(t, `{"arr": [1]}`), decode(t, ctxDoc), intrinsic.Env{})
			var e *intrinsic.Error
			if !errors.As(err, &e) || e.Name != tc.errName || !strings.Contains(e.Cause, tc.cause) {
				t.Fatalf("Eval error = %v, want %s containing %q", err, tc.errName, tc.cause)
			}
		})
	}
	_, err := Eval(decode(t, `{"b.$": "$.nope"}`), map[string]any{}, nil, intrinsic.Env{})
	if !errors.Is(err, jsonpath.ErrNoMatch) {
		t.Fatalf("a missing path should unwrap to jsonpath.ErrNoMatch: %v", err)
	}
}

func TestCompiledTemplateReuse(t *testing.T) {
	tmpl, err := Compile(decode(t, `{"id.$": "$.id", "uuid.$": "States.UUID()"}`))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	env := intrinsic.Env{UUID: func() (string, error) { n++; return "u" + string(rune('0'+n)), nil }}
	for i, want := range []string{`{"id":1,"uuid":"u1"}`, `{"id":2,"uuid":"u2"}`} {
		got, err := tmpl.Eval(map[string]any{"id": json.Number([]string{"1", "2"}[i])}, nil, env)
		if err != nil {
			t.Fatal(err)
		}
		if g := encode(t, got); g != want {
			t.Fatalf("run %d = %s, want %s", i, g, want)
		}
	}
}

func TestCheck(t *testing.T) {
	tmpl := decode(t, `{
	  "ok.$": "$.a",
	  "okCall.$": "States.Array($.a, 'x')",
	  "num.$": 5,
	  "obj.$": {"x": 1},
	  "text.$": "hello",
	  "badPath.$": "$.a[",
	  "badName.$": "States.Nope()",
	  "badArity.$": "States.UUID(1)",
	  "dup": 1, "dup.$": "$.a",
	  ".$": "$",
	  "nested": {"list": [{"x/y~z.$": true}, {"deep": {"p.$": "$$.Bad[?"}}]},
	  "plain": {"a.$x": 1}
	}`)
	got := Check(tmpl)
	want := []struct{ ptr, msg string }{
		{"/.$", `just ".$"`},
		{"/badArity.$", "exactly 0 arguments"},
		{"/badName.$", "unknown intrinsic function"},
		{"/badPath.$", "at offset 3"},
		{"/dup.$", `both "dup" and "dup.$"`},
		{"/nested/list/0/x~1y~0z.$", "got a boolean"},
		{"/nested/list/1/deep/p.$", "invalid JSONPath"},
		{"/num.$", "got a number"},
		{"/obj.$", "got an object"},
		{"/text.$", "neither a path"},
	}
	if len(got) != len(want) {
		t.Fatalf("Check found %d problems, want %d:\n%v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Pointer != w.ptr || !strings.Contains(got[i].Message, w.msg) {
			t.Errorf("problem %d = %s, want %s containing %q", i, got[i], w.ptr, w.msg)
		}
	}
	if ps := Check(decode(t, `{"a": [1, {"b.$": "$.c"}], "d.$": "States.Format('{}', $$.Execution.Id)"}`)); len(ps) != 0 {
		t.Fatalf("valid template reported %v", ps)
	}
}

func TestCheckExpression(t *testing.T) {
	for s, ok := range map[string]bool{"$": true, "$$": true, "$.a.b": true, "States.UUID()": true, "States.UUID": false, "x": false, "": false, "$.a b": false} {
		if got := CheckExpression(s) == ""; got != ok {
			t.Errorf("CheckExpression(%q) ok = %v, want %v (%s)", s, got, ok, CheckExpression(s))
		}
	}
}

func TestResultIsFresh(t *testing.T) {
	// The objects Eval builds are new; literal leaves may be shared, so callers treat the
	// result as immutable. The built object itself must not alias the template.
	tmpl := decode(t, `{"a": {"b": 1}}`)
	got, err := Eval(tmpl, nil, nil, intrinsic.Env{})
	if err != nil {
		t.Fatal(err)
	}
	got.(map[string]any)["a"].(map[string]any)["b"] = 2
	if !reflect.DeepEqual(tmpl, decode(t, `{"a": {"b": 1}}`)) {
		t.Fatal("mutating the result changed the template")
	}
}

// Templates from the fixtures of AWS's own linter, github.com/awslabs/statelint (test/*.json,
// expectations in spec/statelint_spec.rb).
func TestCheckStatelintFixtures(t *testing.T) {
	valid := map[string]string{
		"states-array-intrinsic-functions.json": `{"array.$": "States.Array('Foo', $.xyz, 'Bar', 2.3)", "partition.$": "States.ArrayPartition($.inputArray, 4)",
			"contains.$": "States.ArrayContains($.inputArray, $.lookingFor)", "range.$": "States.ArrayRange(1, 9, 2)",
			"item.$": "States.ArrayGetItem($.inputArray, $.index)", "length.$": "States.ArrayLength($.inputArray)", "unique.$": "States.ArrayUnique($.inputArray)"}`,
		"states-string-intrinsic-functions.json": `{"array.$": "States.StringSplit($.inputString, $.splitter)"}`,
		"states-math-intrinsic-functions.json":   `{"random.$": "States.MathRandom($.start, $.end)", "addition.$": "States.MathAdd($.value1, $.step)"}`,
		"states-format-invocation.json":          `{"abc.$": "States.Format('{} xyz {}', 1, 'def')"}`,
		"states-json-intrinsic-functions.json": `{"output.$": "States.JsonMerge($.json1, $.json2, false)", "json.$": "States.StringToJson($.escapedJsonString)",
			"string.$": "States.JsonToString($.unescapedJson)"}`,
	}
	for name, tmpl := range valid {
		if ps := Check(decode(t, tmpl)); len(ps) != 0 {
			t.Errorf("%s: statelint accepts it, Check reported %v", name, ps)
		}
	}
	invalid := []struct {
		name, tmpl string
		pointers   []string
	}{
		{"parameter-path-problems.json",
			`{"f0": 1, "good1.$": "$.g1", "bad1.$": 23, "bad2.$": "23",
			  "f3": {"bad3.$": [1, 2, 3], "good2.$": "$.b[23]", "f5": ["f6", {"f7": {"bad4.$": {"f9": 1}, "good3.$": "$.x.y.z[2]"}}]}}`,
			[]string{"/bad1.$", "/bad2.$", "/f3/bad3.$", "/f3/f5/1/f7/bad4.$"}},
		{"states-array-invocation-leftpad.json", `{"abc.$": " States.Array('Foo', $.xyz, 'Bar', 2.3)"}`, []string{"/abc.$"}},
		{"invalid-function-invocation.json", `{"abc.$": "States.Xyz($.result)"}`, []string{"/abc.$"}},
	}
	for _, tc := range invalid {
		ps := Check(decode(t, tc.tmpl))
		var got []string
		for _, p := range ps {
			got = append(got, p.Pointer)
		}
		if !reflect.DeepEqual(got, tc.pointers) {
			t.Errorf("%s: problems at %v, want %v (%v)", tc.name, got, tc.pointers, ps)
		}
	}
}
