package jsonpath

import (
	"encoding/json"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

func genName() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.SampledFrom([]string{"a", "b", "c d", "it's", `back\slash`, "x.y", "", "0", "détail", "[", "$", "@", "a-b"}),
		rapid.StringN(0, 6, -1),
	)
}

// genPart is a reference-path step: a field name (string) or an array index (int).
func genPart() *rapid.Generator[any] {
	return rapid.OneOf(
		rapid.Map(genName(), func(s string) any { return s }),
		rapid.Map(rapid.IntRange(0, 3), func(i int) any { return i }),
	)
}

func genValue(depth int) *rapid.Generator[any] {
	leaf := rapid.OneOf(
		rapid.Map(rapid.Int64(), func(n int64) any { return json.Number(strconv.FormatInt(n, 10)) }),
		rapid.Map(rapid.Float64Range(-1e6, 1e6), func(f float64) any { return json.Number(strconv.FormatFloat(f, 'g', -1, 64)) }),
		rapid.Map(rapid.StringN(0, 4, -1), func(s string) any { return s }),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Just[any](nil),
	)
	if depth == 0 {
		return leaf
	}
	return rapid.OneOf(
		leaf,
		rapid.Map(rapid.MapOfN(genName(), genValue(depth-1), 0, 4), func(m map[string]any) any { return m }),
		rapid.Map(rapid.SliceOfN(genValue(depth-1), 0, 4), func(a []any) any { return a }),
	)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestSetThenEval: whenever Set succeeds, evaluating the same reference path on its result
// returns the value set, and the original document is left as it was.
func TestSetThenEval(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOfN(genPart(), 0, 5).Draw(t, "parts")
		expr := Join("$", parts...)
		ref, err := ParseReference(expr)
		if err != nil {
			t.Fatalf("Join produced %q which does not parse as a reference path: %v", expr, err)
		}
		if got := ref.String(); got != expr {
			t.Fatalf("String() = %q, want %q", got, expr)
		}
		if got, ok := ref.Parts(); !ok || Join("$", got...) != expr {
			t.Fatalf("Parts() of %q = %v, %v; Join does not give the path back", expr, got, ok)
		}
		doc := genValue(3).Draw(t, "doc")
		if rapid.Bool().Draw(t, "objectRoot") {
			doc = map[string]any{"seed": doc}
		}
		value := genValue(2).Draw(t, "value")
		before := string(mustJSON(doc))

		out, err := Set(doc, ref, value)
		if after := string(mustJSON(doc)); after != before {
			t.Fatalf("Set(%s) mutated its input: %s -> %s", expr, before, after)
		}
		if err != nil {
			return
		}
		got, err := ref.Eval(out)
		if err != nil {
			t.Fatalf("Eval(%s) after Set: %v", expr, err)
		}
		if !Equal(got, value) {
			t.Fatalf("Eval(%s) after Set = %s, want %s", expr, mustJSON(got), mustJSON(value))
		}
	})
}

// TestSetNamesOnObjects: a path of field names only can always be set on an object whose
// members along the path are objects or missing.
func TestSetNamesOnObjects(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		names := rapid.SliceOfN(genName(), 1, 5).Draw(t, "names")
		parts := make([]any, len(names))
		for i, n := range names {
			parts[i] = n
		}
		ref := MustParse(Join("$", parts...))
		out, err := Set(map[string]any{}, ref, "v")
		if err != nil {
			t.Fatalf("Set(%s) on {}: %v", ref, err)
		}
		// Setting again on the result (now all objects along the path) also works.
		if _, err := Set(out, ref, "w"); err != nil {
			t.Fatalf("second Set(%s): %v", ref, err)
		}
	})
}
