package jsonpath

import (
	"errors"
	"testing"
)

// FuzzParse checks that no expression panics the parser or the evaluator, that errors carry
// an offset inside the expression, and that every parsed path evaluates on a sample document.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"$", "$.a.b[0]", "$..x", "$[*][*]", "$.a[1:-1:2]", "$['a b']", `$.a[?(@.p < 10 && @.q == 'x' || !@.r)]`, "$$.Execution.Id", "$.a[0,1]"} {
		f.Add(s)
	}
	doc := decode(f, storeDoc)
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := Parse(expr)
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
		if p.String() != expr {
			t.Fatalf("String() = %q, want %q", p.String(), expr)
		}
		v, err := p.Eval(doc)
		if err != nil && !errors.Is(err, ErrNoMatch) {
			t.Fatalf("Eval(%q): unexpected error %v", expr, err)
		}
		if !p.IsDefinite() {
			if _, ok := v.([]any); !ok {
				t.Fatalf("indefinite %q returned %T, want []any", expr, v)
			}
		}
		if p.IsReference() && !p.IsContext() {
			if _, err := Set(doc, p, "x"); err != nil && !errors.Is(err, ErrCannotSet) {
				t.Fatalf("Set(%q): %v", expr, err)
			}
		}
	})
}
