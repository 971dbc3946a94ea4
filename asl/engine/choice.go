package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

// rule is a Choice rule: a boolean combination (And/Or/Not) or one
// comparison of Variable with a literal or, for the ...Path twins, with
// the value at another path.
type rule struct {
	next     string
	op       string // "And", "Or", "Not", or a comparison operator without its "Path" suffix
	children []*rule
	variable *jsonpath.Path
	literal  any
	other    *jsonpath.Path // set for the ...Path twins
	pattern  []patternPart  // StringMatches
}

var comparisonOps = map[string]string{
	// operator -> the type of value it compares
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "test", "IsPresent": "test", "IsNumeric": "test", "IsString": "test",
	"IsBoolean": "test", "IsTimestamp": "test",
}

func (c *compiler) rule(o map[string]any, where string, top bool) *rule {
	r := &rule{}
	if top {
		r.next, _ = o["Next"].(string)
		if r.next == "" {
			c.fail(where+"/Next", "required")
		}
	}
	for _, op := range []string{"And", "Or"} {
		if v, ok := o[op]; ok {
			r.op = op
			arr, _ := v.([]any)
			if len(arr) == 0 {
				c.fail(where+"/"+op, "must be a non-empty array")
			}
			for i, e := range arr {
				eo, _ := e.(map[string]any)
				r.children = append(r.children, c.rule(eo, fmt.Sprintf("%s/%s/%d", where, op, i), false))
			}
			return r
		}
	}
	if v, ok := o["Not"]; ok {
		r.op = "Not"
		eo, _ := v.(map[string]any)
		r.children = []*rule{c.rule(eo, where+"/Not", false)}
		return r
	}
	if v, ok := o["Variable"]; ok {
		r.variable = c.path(v, where+"/Variable", false)
	} else {
		c.fail(where+"/Variable", "required")
	}
	for k, v := range o {
		if k == "Variable" || k == "Next" || k == "Comment" {
			continue
		}
		base, isPath := strings.CutSuffix(k, "Path")
		kind, known := comparisonOps[base]
		if !known || (isPath && kind == "test") {
			if kind, ok := comparisonOps[k]; ok {
				base, isPath = k, false
				_ = kind
			} else {
				c.fail(where+"/"+k, "unknown comparison operator")
				continue
			}
		}
		if r.op != "" {
			c.fail(where+"/"+k, "a rule has exactly one comparison operator")
			continue
		}
		r.op = base
		if isPath {
			r.other = c.path(v, where+"/"+k, false)
			continue
		}
		r.literal = v
		switch comparisonOps[base] {
		case "string":
			s, ok := v.(string)
			if !ok {
				c.fail(where+"/"+k, "must be a string")
			}
			if base == "StringMatches" {
				r.pattern = compilePattern(s)
			}
		case "number":
			if _, ok := v.(json.Number); !ok {
				c.fail(where+"/"+k, "must be a number")
			}
		case "boolean", "test":
			if _, ok := v.(bool); !ok {
				c.fail(where+"/"+k, "must be a boolean")
			}
		case "timestamp":
			s, _ := v.(string)
			if _, ok := parseTimestamp(s); !ok {
				c.fail(where+"/"+k, "must be an RFC 3339 timestamp")
			}
		}
	}
	if r.op == "" {
		c.fail(where, "no comparison operator")
	}
	return r
}

// eval reports whether the rule matches. Following AWS: a Variable that
// is not present is an error (States.Runtime) except for IsPresent; a
// value of the wrong type for the operator makes the comparison false.
func (r *rule) eval(input, ctxObj any) (bool, error) {
	switch r.op {
	case "And":
		for _, c := range r.children {
			ok, err := c.eval(input, ctxObj)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "Or":
		for _, c := range r.children {
			ok, err := c.eval(input, ctxObj)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "Not":
		ok, err := r.children[0].eval(input, ctxObj)
		return !ok && err == nil, err
	}
	v, present, err := evalPath(r.variable, input, ctxObj)
	if err != nil {
		return false, err
	}
	if r.op == "IsPresent" {
		return present == r.literal.(bool), nil
	}
	if !present {
		return false, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.variable)}
	}
	want := r.literal
	if r.other != nil {
		w, ok, err := evalPath(r.other, input, ctxObj)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.other)}
		}
		want = w
	}
	switch r.op {
	case "IsNull":
		return (v == nil) == want.(bool), nil
	case "IsNumeric":
		return jsonpath.IsNumber(v) == want.(bool), nil
	case "IsString":
		_, ok := v.(string)
		return ok == want.(bool), nil
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == want.(bool), nil
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(s)
		}
		return ok == want.(bool), nil
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b, nil
	case "StringMatches":
		a, ok := v.(string)
		if !ok {
			return false, nil
		}
		pat := r.pattern
		if r.other != nil {
			ps, ok := want.(string)
			if !ok {
				return false, nil
			}
			pat = compilePattern(ps)
		}
		return matchPattern(pat, a), nil
	}
	var cmp int
	switch comparisonOps[r.op] {
	case "string":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		cmp = strings.Compare(a, b)
	case "number":
		a, ok1 := toRat(v)
		b, ok2 := toRat(want)
		if !ok1 || !ok2 {
			return false, nil
		}
		cmp = a.Cmp(b)
	case "timestamp":
		as, ok1 := v.(string)
		bs, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		cmp = a.Compare(b)
	default:
		return false, &Error{Name: ErrRuntime, Cause: "unknown operator " + r.op}
	}
	switch {
	case strings.HasSuffix(r.op, "LessThanEquals"):
		return cmp <= 0, nil
	case strings.HasSuffix(r.op, "GreaterThanEquals"):
		return cmp >= 0, nil
	case strings.HasSuffix(r.op, "LessThan"):
		return cmp < 0, nil
	case strings.HasSuffix(r.op, "GreaterThan"):
		return cmp > 0, nil
	default: // Equals
		return cmp == 0, nil
	}
}

// evalPath evaluates p against the input, or the context object for a
// "$$" path; present is false when a definite path selects nothing.
func evalPath(p *jsonpath.Path, input, ctxObj any) (v any, present bool, err error) {
	doc := input
	if p.IsContext() {
		doc = ctxObj
	}
	v, err = p.Eval(doc)
	if errors.Is(err, jsonpath.ErrNoMatch) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &Error{Name: ErrRuntime, Cause: err.Error()}
	}
	return v, true, nil
}

func toRat(v any) (*big.Rat, bool) {
	switch n := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(n))
		return r, ok
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(n) == nil {
			return nil, false
		}
		return r, true
	case int:
		return new(big.Rat).SetInt64(int64(n)), true
	case int64:
		return new(big.Rat).SetInt64(n), true
	}
	return nil, false
}

// parseTimestamp accepts RFC 3339 timestamps (with a time zone), as the
// Timestamp comparators and IsTimestamp do.
func parseTimestamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// patternPart is a literal run or a '*' wildcard of a StringMatches
// pattern. "\*" is a literal star and "\\" a literal backslash.
type patternPart struct {
	star bool
	lit  string
}

func compilePattern(p string) []patternPart {
	var parts []patternPart
	var lit strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\'):
			lit.WriteByte(p[i+1])
			i++
		case ch == '*':
			if lit.Len() > 0 {
				parts = append(parts, patternPart{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, patternPart{star: true})
		default:
			lit.WriteByte(ch)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, patternPart{lit: lit.String()})
	}
	return parts
}

// matchPattern matches s against the whole pattern (greedy stars with
// backtracking over literal positions).
func matchPattern(parts []patternPart, s string) bool {
	if len(parts) == 0 {
		return s == ""
	}
	p := parts[0]
	if !p.star {
		if !strings.HasPrefix(s, p.lit) {
			return false
		}
		return matchPattern(parts[1:], s[len(p.lit):])
	}
	rest := parts[1:]
	if len(rest) == 0 {
		return true
	}
	for i := 0; i <= len(s); i++ {
		if matchPattern(rest, s[i:]) {
			return true
		}
	}
	return false
}
