// Package rules routes bus events to workflows the way EventBridge rules do:
// an event pattern (exact values, prefix, suffix, equals-ignore-case,
// anything-but, numeric ranges, exists; an array of values means OR, keys
// mean AND) selects events, and a target starts a Step Functions execution
// per matching event. The partition-ready rule starts the quality gate under
// a deterministic execution name, at most one run per partition at a time.
//
// Pattern semantics follow the EventBridge user guide, "Amazon EventBridge
// event patterns" and "Content filtering in Amazon EventBridge event
// patterns" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html).
package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/serverless-elt/elt/internal/bus"
)

// ErrPattern is wrapped by every pattern compile error.
var ErrPattern = errors.New("invalid event pattern")

// Pattern is a compiled event pattern.
type Pattern struct {
	root node
	text string
}

// node is an object level of the pattern: field -> nested object or leaf.
type node struct {
	fields []fieldMatch
}

type fieldMatch struct {
	key    string
	nested *node     // an object in the pattern
	leaf   []matcher // an array in the pattern (OR)
}

type matcher interface {
	// match is called with the field's value (present) or, with present
	// false, for a missing field.
	match(v any, present bool) bool
}

// String is the pattern as written.
func (p *Pattern) String() string { return p.text }

// CompilePattern parses an EventBridge event pattern.
func CompilePattern(text []byte) (*Pattern, error) {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPattern, err)
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, fmt.Errorf("%w: a pattern is a non-empty JSON object", ErrPattern)
	}
	n, err := compileNode(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: *n, text: string(text)}, nil
}

func compileNode(obj map[string]any, path string) (*node, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &node{}
	for _, k := range keys {
		p := path + "." + k
		switch v := obj[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%w: %s is an empty object", ErrPattern, p[1:])
			}
			sub, err := compileNode(v, p)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, fieldMatch{key: k, nested: sub})
		case []any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%w: %s is an empty array (it would match nothing)", ErrPattern, p[1:])
			}
			var ms []matcher
			for _, item := range v {
				m, err := compileMatcher(item, p[1:])
				if err != nil {
					return nil, err
				}
				ms = append(ms, m)
			}
			n.fields = append(n.fields, fieldMatch{key: k, leaf: ms})
		default:
			return nil, fmt.Errorf("%w: %s must be an object or an array of values, got %s", ErrPattern, p[1:], jsonText(v))
		}
	}
	return n, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// exact matches one literal (string, number, boolean or null).
type exact struct{ v any }

func (m exact) match(v any, present bool) bool { return present && equalScalar(m.v, v) }

func equalScalar(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		ra, ok1 := new(big.Rat).SetString(string(x))
		rb, ok2 := new(big.Rat).SetString(string(y))
		return ok1 && ok2 && ra.Cmp(rb) == 0
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

type prefixM struct {
	s          string
	ignoreCase bool
}

func (m prefixM) match(v any, present bool) bool {
	s, ok := v.(string)
	if !present || !ok {
		return false
	}
	if m.ignoreCase {
		return len(s) >= len(m.s) && strings.EqualFold(s[:len(m.s)], m.s)
	}
	return strings.HasPrefix(s, m.s)
}

type suffixM struct {
	s          string
	ignoreCase bool
}

func (m suffixM) match(v any, present bool) bool {
	s, ok := v.(string)
	if !present || !ok {
		return false
	}
	if m.ignoreCase {
		return len(s) >= len(m.s) && strings.EqualFold(s[len(s)-len(m.s):], m.s)
	}
	return strings.HasSuffix(s, m.s)
}

type equalsIgnoreCase struct{ s string }

func (m equalsIgnoreCase) match(v any, present bool) bool {
	s, ok := v.(string)
	return present && ok && strings.EqualFold(s, m.s)
}

type existsM struct{ want bool }

func (m existsM) match(_ any, present bool) bool { return present == m.want }

// anythingBut matches a present value that the inner matchers do not.
type anythingBut struct{ not []matcher }

func (m anythingBut) match(v any, present bool) bool {
	if !present {
		return false
	}
	for _, n := range m.not {
		if n.match(v, true) {
			return false
		}
	}
	return true
}

type bound struct {
	op string
	v  *big.Rat
}

type numeric struct{ bounds []bound }

func (m numeric) match(v any, present bool) bool {
	n, ok := v.(json.Number)
	if !present || !ok {
		return false
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return false
	}
	for _, b := range m.bounds {
		c := r.Cmp(b.v)
		var pass bool
		switch b.op {
		case "<":
			pass = c < 0
		case "<=":
			pass = c <= 0
		case "=":
			pass = c == 0
		case ">=":
			pass = c >= 0
		case ">":
			pass = c > 0
		}
		if !pass {
			return false
		}
	}
	return true
}

func compileMatcher(item any, path string) (matcher, error) {
	bad := func(format string, args ...any) (matcher, error) {
		return nil, fmt.Errorf("%w: %s: %s", ErrPattern, path, fmt.Sprintf(format, args...))
	}
	switch v := item.(type) {
	case string, json.Number, bool, nil:
		return exact{v}, nil
	case []any:
		return bad("nested arrays are not allowed")
	}
	obj := item.(map[string]any)
	if len(obj) != 1 {
		return bad("a content filter has exactly one operator, got %s", jsonText(obj))
	}
	for op, arg := range obj {
		switch op {
		case "prefix", "suffix":
			switch a := arg.(type) {
			case string:
				if op == "prefix" {
					return prefixM{s: a}, nil
				}
				return suffixM{s: a}, nil
			case map[string]any:
				s, ok := a["equals-ignore-case"].(string)
				if !ok || len(a) != 1 {
					return bad("%s takes a string or {\"equals-ignore-case\": string}", op)
				}
				if op == "prefix" {
					return prefixM{s: s, ignoreCase: true}, nil
				}
				return suffixM{s: s, ignoreCase: true}, nil
			}
			return bad("%s takes a string", op)
		case "equals-ignore-case":
			s, ok := arg.(string)
			if !ok {
				return bad("equals-ignore-case takes a string")
			}
			return equalsIgnoreCase{s}, nil
		case "exists":
			b, ok := arg.(bool)
			if !ok {
				return bad("exists takes true or false")
			}
			return existsM{b}, nil
		case "anything-but":
			return compileAnythingBut(arg, path)
		case "numeric":
			return compileNumeric(arg, path)
		default:
			return bad("unknown operator %q (supported: prefix, suffix, equals-ignore-case, anything-but, numeric, exists)", op)
		}
	}
	panic("unreachable")
}

func compileAnythingBut(arg any, path string) (matcher, error) {
	bad := func(format string, args ...any) (matcher, error) {
		return nil, fmt.Errorf("%w: %s: anything-but %s", ErrPattern, path, fmt.Sprintf(format, args...))
	}
	switch a := arg.(type) {
	case string, json.Number:
		return anythingBut{not: []matcher{exact{a}}}, nil
	case []any:
		if len(a) == 0 {
			return bad("takes a non-empty list")
		}
		var ms []matcher
		for _, x := range a {
			switch x.(type) {
			case string, json.Number:
				ms = append(ms, exact{x})
			default:
				return bad("lists hold strings or numbers, got %s", jsonText(x))
			}
		}
		return anythingBut{not: ms}, nil
	case map[string]any:
		m, err := compileMatcher(a, path)
		if err != nil {
			return nil, err
		}
		switch m.(type) {
		case prefixM, suffixM, equalsIgnoreCase:
			return anythingBut{not: []matcher{m}}, nil
		}
		return bad("takes prefix, suffix or equals-ignore-case, got %s", jsonText(a))
	}
	return bad("takes a string, a number, a list or an object, got %s", jsonText(arg))
}

func compileNumeric(arg any, path string) (matcher, error) {
	bad := func(format string, args ...any) (matcher, error) {
		return nil, fmt.Errorf("%w: %s: numeric %s", ErrPattern, path, fmt.Sprintf(format, args...))
	}
	a, ok := arg.([]any)
	if !ok || len(a) == 0 || len(a)%2 != 0 || len(a) > 4 {
		return bad("takes one or two [operator, number] pairs, e.g. [\">\", 0, \"<=\", 5]")
	}
	var m numeric
	lower, upper := false, false
	for i := 0; i < len(a); i += 2 {
		op, ok := a[i].(string)
		if !ok {
			return bad("operator %s is not a string", jsonText(a[i]))
		}
		n, ok := a[i+1].(json.Number)
		if !ok {
			return bad("operand %s is not a number", jsonText(a[i+1]))
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return bad("operand %s is not a number", n)
		}
		switch op {
		case ">", ">=":
			if lower {
				return bad("has two lower bounds")
			}
			lower = true
		case "<", "<=":
			if upper {
				return bad("has two upper bounds")
			}
			upper = true
		case "=":
			if len(a) != 2 {
				return bad("= stands alone")
			}
		default:
			return bad("unknown operator %q (<, <=, =, >=, >)", op)
		}
		m.bounds = append(m.bounds, bound{op: op, v: r})
	}
	return m, nil
}

// Match reports whether a JSON document (decoded with UseNumber) matches.
func (p *Pattern) Match(doc any) bool { return p.root.match(doc) }

func (n *node) match(doc any) bool {
	obj, _ := doc.(map[string]any)
	for _, f := range n.fields {
		v, present := obj[f.key]
		if f.nested != nil {
			// A missing object is matched as an empty one, so exists:false
			// below it holds.
			if !present {
				v = map[string]any{}
			}
			if _, ok := v.(map[string]any); !ok {
				return false
			}
			if !f.nested.match(v) {
				return false
			}
			continue
		}
		if !leafMatch(f.leaf, v, present) {
			return false
		}
	}
	return true
}

// leafMatch: any matcher (OR); an array value matches when any element does.
func leafMatch(ms []matcher, v any, present bool) bool {
	if arr, ok := v.([]any); ok && present {
		for _, m := range ms {
			if _, isExists := m.(existsM); isExists {
				if m.match(v, true) {
					return true
				}
				continue
			}
			for _, el := range arr {
				if m.match(el, true) {
					return true
				}
			}
		}
		return false
	}
	for _, m := range ms {
		if m.match(v, present) {
			return true
		}
	}
	return false
}

// Envelope is the event as EventBridge delivers it to a target and as
// patterns see it: version, id, detail-type, source, account, time, region,
// resources, detail.
func Envelope(ev bus.Event, id string) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(ev.Detail))
	d.UseNumber()
	var detail any
	if len(bytes.TrimSpace(ev.Detail)) > 0 {
		if err := d.Decode(&detail); err != nil {
			return nil, fmt.Errorf("event detail: %w", err)
		}
	} else {
		detail = map[string]any{}
	}
	res := make([]any, 0, len(ev.Resources))
	for _, r := range ev.Resources {
		res = append(res, r)
	}
	return map[string]any{
		"version":     "0",
		"id":          id,
		"detail-type": ev.DetailType,
		"source":      ev.Source,
		"account":     "000000000000",
		"time":        ev.Time.UTC().Format("2006-01-02T15:04:05Z"),
		"region":      "us-east-1",
		"resources":   res,
		"detail":      detail,
	}, nil
}
