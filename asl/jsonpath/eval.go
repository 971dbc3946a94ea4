package jsonpath

import (
	"fmt"
	"sort"
	"strconv"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// Eval applies the path to doc. A definite path returns the selected value or an error
// matching ErrNoMatch; an indefinite path returns a []any of every match (possibly empty),
// in document order (object members in key order, since Go maps have none).
func (p *Path) Eval(doc any) (any, error) {
	if p.IsDefinite() {
		cur := doc
		for i, s := range p.segs {
			next, ok, reason := step(cur, s)
			if !ok {
				return nil, &NoMatchError{Path: p.src, Prefix: p.prefix(i), Reason: reason}
			}
			cur = next
		}
		return cur, nil
	}
	return p.matches(doc), nil
}

// prefix renders the first n segments, for error messages.
func (p *Path) prefix(n int) string {
	if n == len(p.segs) {
		return p.src
	}
	if n == 0 {
		if p.context {
			return "$$"
		}
		return "$"
	}
	return p.src[:p.segs[n].pos]
}

// step applies a definite segment to one node.
func step(node any, s segment) (any, bool, string) {
	switch s.kind {
	case segName:
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false, fmt.Sprintf("field %q requested from a %s", s.name, typeName(node))
		}
		v, ok := m[s.name]
		if !ok {
			return nil, false, fmt.Sprintf("no field %q", s.name)
		}
		return v, true, ""
	case segIndex:
		a, ok := node.([]any)
		if !ok {
			return nil, false, fmt.Sprintf("index %d requested from a %s", s.index, typeName(node))
		}
		i := s.index
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false, fmt.Sprintf("index %d out of range (length %d)", s.index, len(a))
		}
		return a[i], true, ""
	}
	return nil, false, "indefinite segment"
}

// matches evaluates an indefinite path.
func (p *Path) matches(doc any) []any {
	nodes := []any{doc}
	for _, s := range p.segs {
		var next []any
		for _, n := range nodes {
			if s.deep && s.kind == segFilter {
				// Jayway scans for objects that satisfy the predicate; arrays are only walked
				// through, so an element is not matched twice (as element and as object).
				walk(n, func(d any) {
					if m, ok := d.(map[string]any); ok && s.filter.eval(m, doc) {
						next = append(next, m)
					}
				})
			} else if s.deep {
				walk(n, func(d any) { next = apply(next, d, s, doc) })
			} else {
				next = apply(next, n, s, doc)
			}
		}
		nodes = next
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes
}

// walk visits node and all its descendants, pre-order.
func walk(node any, f func(any)) {
	f(node)
	switch t := node.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			walk(t[k], f)
		}
	case []any:
		for _, v := range t {
			walk(v, f)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// apply appends the results of one segment on one node to out.
func apply(out []any, node any, s segment, root any) []any {
	switch s.kind {
	case segName, segIndex:
		if v, ok, _ := step(node, s); ok {
			out = append(out, v)
		}
	case segWildcard:
		switch t := node.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, t[k])
			}
		case []any:
			out = append(out, t...)
		}
	case segUnion:
		switch t := node.(type) {
		case map[string]any:
			for _, n := range s.names {
				if v, ok := t[n]; ok {
					out = append(out, v)
				}
			}
		case []any:
			for _, i := range s.indexes {
				if i < 0 {
					i += len(t)
				}
				if i >= 0 && i < len(t) {
					out = append(out, t[i])
				}
			}
		}
	case segSlice:
		if a, ok := node.([]any); ok {
			lo, hi, st := sliceIndices(len(a), s.start, s.end, s.step)
			if st > 0 {
				for i := lo; i < hi; i += st {
					out = append(out, a[i])
				}
			} else {
				for i := lo; i > hi; i += st {
					out = append(out, a[i])
				}
			}
		}
	case segFilter:
		switch t := node.(type) {
		case []any:
			for _, v := range t {
				if s.filter.eval(v, root) {
					out = append(out, v)
				}
			}
		case map[string]any:
			// Jayway (the JSONPath library behind Step Functions) tests an object
			// against the predicate itself rather than iterating its members.
			if s.filter.eval(t, root) {
				out = append(out, t)
			}
		}
	}
	return out
}

// sliceIndices follows Python's slice.indices: negative bounds count from the end, and
// bounds are clamped to the array.
func sliceIndices(n int, start, end *int, stepv int) (int, int, int) {
	if stepv == 0 {
		stepv = 1
	}
	clamp := func(v *int, def, lo, hi int) int {
		if v == nil {
			return def
		}
		x := *v
		if x < 0 {
			x += n
			if x < lo {
				x = lo
			}
		} else if x > hi {
			x = hi
		}
		return x
	}
	if stepv > 0 {
		return clamp(start, 0, 0, n), clamp(end, n, 0, n), stepv
	}
	return clamp(start, n-1, -1, n-1), clamp(end, -1, -1, n-1), stepv
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	if _, ok := toRat(v); ok {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// ---- filters ----

type expr interface {
	eval(node, root any) bool
}

type logicExpr struct {
	and  bool
	l, r expr
}

func (e *logicExpr) eval(node, root any) bool {
	if e.and {
		return e.l.eval(node, root) && e.r.eval(node, root)
	}
	return e.l.eval(node, root) || e.r.eval(node, root)
}

type notExpr struct{ e expr }

func (e *notExpr) eval(node, root any) bool { return !e.e.eval(node, root) }

type relPath struct {
	root     bool // "$" rather than "@"
	segs     []segment
	definite bool
}

// resolve returns the value the operand path selects and whether it exists.
// An indefinite relative path yields the array of its matches.
func (r *relPath) resolve(node, root any) (any, bool) {
	start := node
	if r.root {
		start = root
	}
	if r.definite {
		cur := start
		for _, s := range r.segs {
			next, ok, _ := step(cur, s)
			if !ok {
				return nil, false
			}
			cur = next
		}
		return cur, true
	}
	return (&Path{segs: r.segs}).matches(start), true
}

type existsExpr struct{ path *relPath }

func (e *existsExpr) eval(node, root any) bool {
	v, ok := e.path.resolve(node, root)
	if !ok {
		return false
	}
	if a, isArr := v.([]any); isArr && !e.path.definite {
		return len(a) > 0
	}
	return true
}

type operand struct {
	path *relPath // nil for a literal
	lit  any
}

func (o operand) value(node, root any) (any, bool) {
	if o.path == nil {
		return o.lit, true
	}
	return o.path.resolve(node, root)
}

type cmpExpr struct {
	op   string
	l, r operand
}

func (e *cmpExpr) eval(node, root any) bool {
	lv, lok := e.l.value(node, root)
	rv, rok := e.r.value(node, root)
	if !lok || !rok {
		// A missing operand is "undefined" in Jayway: it equals nothing.
		return e.op == "!="
	}
	switch e.op {
	case "==":
		return Equal(lv, rv)
	case "!=":
		return !Equal(lv, rv)
	}
	c, ok := compare(lv, rv)
	if !ok {
		return false
	}
	switch e.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// compare orders two numbers or two strings; other pairs are not comparable.
func compare(a, b any) (int, bool) {
	if IsNumber(a) {
		return cmpNumbers(a, b)
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	return 0, false
}

// quoteName renders a field name for a path expression.
func quoteName(n string) string {
	simple := n != ""
	for i := 0; i < len(n); i++ {
		if isNameStop(n[i]) || n[i] < 0x20 || n[i] == 0x7f || (i == 0 && n[i] >= '0' && n[i] <= '9') {
			simple = false
			break
		}
	}
	if simple {
		return "." + n
	}
	b := []byte("['")
	for i := 0; i < len(n); i++ {
		if n[i] == '\'' || n[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, n[i])
	}
	return string(append(b, "']"...))
}

// Join builds a reference path from names (string) and indexes (int), e.g.
// Join("$", "a", 0, "b c") == "$.a[0]['b c']". Other element types panic.
func Join(root string, parts ...any) string {
	s := root
	for _, p := range parts {
		switch t := p.(type) {
		case string:
			s += quoteName(t)
		case int:
			s += "[" + strconv.Itoa(t) + "]"
		default:
			panic(fmt.Sprintf("jsonpath.Join: unsupported part %T", p))
		}
	}
	return s
}
