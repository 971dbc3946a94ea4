package intrinsic

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzParse checks that no expression panics the parser or the evaluator, and that every
// failure is one of the package's typed errors.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`States.Format('Hello, my name is {}.', $.name)`,
		`States.Array()`,
		`States.Format('it\'s \{\} {} \\', States.ArrayGetItem(States.StringSplit($.s, ','), 0))`,
		`States.JsonMerge($.a, $.b, false)`,
		`States.MathRandom(1, 999, 42)`,
		`States.Hash($['a b'], 'SHA-256')`,
		`States.ArrayRange(-1.5, 10e1, 3)`,
	} {
		f.Add(s)
	}
	input := decode(f, `{"name": "n", "s": "a,b", "a": {"x": 1}, "b": {"y": [1, 2]}, "a b": "z"}`)
	f.Fuzz(func(t *testing.T, expr string) {
		call, err := Parse(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) returned %T, want *SyntaxError", expr, err)
			}
			if se.Offset < 0 || se.Offset > len(expr) {
				t.Fatalf("Parse(%q) offset %d outside the expression", expr, se.Offset)
			}
			return
		}
		_ = call.Lint()
		env := Env{Input: input, Context: input, Rand: rand.New(rand.NewPCG(1, 1)),
			UUID: func() (string, error) { return "00000000-0000-4000-8000-000000000000", nil }}
		if _, err := Eval(call, env); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Eval(%q) returned %T (%v), want *Error", expr, err, err)
			}
		}
	})
}
