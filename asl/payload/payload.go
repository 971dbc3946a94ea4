// Package payload evaluates Amazon States Language payload templates: Parameters,
// ResultSelector, ItemSelector, the legacy Map Parameters, task Payload/Arguments objects and
// any other JSON value in which keys ending in ".$" are computed.
// Reference: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
//
// API in one screen:
//
//	out, err := payload.Eval(tmpl, input, ctx, intrinsic.Env{}) // one-shot
//	t, err := payload.Compile(tmpl)   // parse once (state machine load) ...
//	out, err := t.Eval(input, ctx, env) // ... evaluate many times (safe concurrently)
//	problems := payload.Check(tmpl)   // static checks for the validator: []Problem{Pointer, Message}
//
// Rules: in an object, a key "name.$" becomes "name" and its value, which must be a string, is
// replaced by what it selects: a path starting "$$" is evaluated against ctx (the context
// object), a path starting "$" against input, and "States.X(...)" is an intrinsic call (see
// package intrinsic). Objects and arrays are walked recursively (also inside arrays); every
// other value is copied as is. env.Input and env.Context are overwritten with input and ctx.
//
// Errors from Eval are *intrinsic.Error: Name "States.Runtime" when a path matches nothing
// (or the template is malformed), "States.IntrinsicFailure" when an intrinsic call fails.
// Results may share unchanged subtrees with tmpl and input: treat all of them as immutable.
package payload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/serverless-elt/elt/asl/intrinsic"
	"github.com/serverless-elt/elt/asl/jsonpath"
)

// Suffix marks a key whose value is computed.
const Suffix = ".$"

// Template is a compiled payload template. It is immutable and safe for concurrent use.
type Template struct {
	root node
}

// Compile checks and compiles a template. A malformed template (the problems Check reports)
// fails with the first problem.
func Compile(tmpl any) (*Template, error) {
	if ps := Check(tmpl); len(ps) > 0 {
		return nil, &intrinsic.Error{Name: intrinsic.ErrRuntime, Cause: "invalid payload template: " + ps[0].String()}
	}
	n, err := compile(tmpl, "")
	if err != nil {
		return nil, err
	}
	return &Template{root: n}, nil
}

// Eval compiles tmpl and evaluates it against input and the context object ctx.
func Eval(tmpl any, input any, ctx any, env intrinsic.Env) (any, error) {
	t, err := Compile(tmpl)
	if err != nil {
		return nil, err
	}
	return t.Eval(input, ctx, env)
}

// Eval evaluates the template against input and the context object ctx.
func (t *Template) Eval(input any, ctx any, env intrinsic.Env) (any, error) {
	env.Input, env.Context = input, ctx
	return t.root.eval(&env)
}

type node interface {
	eval(env *intrinsic.Env) (any, error)
}

type litNode struct{ v any }

func (n litNode) eval(*intrinsic.Env) (any, error) { return n.v, nil }

type objNode struct {
	keys []string
	vals []node
}

func (n *objNode) eval(env *intrinsic.Env) (any, error) {
	out := make(map[string]any, len(n.keys))
	for i, k := range n.keys {
		v, err := n.vals[i].eval(env)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

type arrNode struct{ items []node }

func (n *arrNode) eval(env *intrinsic.Env) (any, error) {
	out := make([]any, len(n.items))
	for i, it := range n.items {
		v, err := it.eval(env)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

type pathNode struct {
	field string // the ".$" key, for error messages
	path  *jsonpath.Path
}

func (n *pathNode) eval(env *intrinsic.Env) (any, error) {
	doc, where := env.Input, "input"
	if n.path.IsContext() {
		doc, where = env.Context, "context object"
	}
	v, err := n.path.Eval(doc)
	if err != nil {
		// Wording follows the States.Runtime cause AWS reports for this case.
		return nil, &intrinsic.Error{Name: intrinsic.ErrRuntime, Err: err,
			Cause: fmt.Sprintf("The JsonPath argument for the field '%s' could not be found in the %s: %v", n.field, where, err)}
	}
	return v, nil
}

type callNode struct{ call *intrinsic.Call }

func (n *callNode) eval(env *intrinsic.Env) (any, error) {
	return intrinsic.Eval(n.call, *env)
}

func compile(v any, at string) (node, error) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &objNode{}
		for _, k := range keys {
			if name, ok := strings.CutSuffix(k, Suffix); ok {
				s := t[k].(string) // Check ran first
				var c node
				if strings.HasPrefix(s, "$") {
					c = &pathNode{field: k, path: jsonpath.MustParse(s)}
				} else {
					call, err := intrinsic.Parse(s)
					if err != nil {
						return nil, err
					}
					c = &callNode{call: call}
				}
				n.keys, n.vals = append(n.keys, name), append(n.vals, c)
				continue
			}
			c, err := compile(t[k], at+"/"+escape(k))
			if err != nil {
				return nil, err
			}
			n.keys, n.vals = append(n.keys, k), append(n.vals, c)
		}
		return n, nil
	case []any:
		n := &arrNode{items: make([]node, len(t))}
		for i, it := range t {
			c, err := compile(it, at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			n.items[i] = c
		}
		return n, nil
	}
	return litNode{v: v}, nil
}

// Problem is one static issue in a template.
type Problem struct {
	Pointer string // JSON Pointer relative to the template root ("" is the root)
	Message string
}

func (p Problem) String() string {
	if p.Pointer == "" {
		return p.Message
	}
	return p.Pointer + ": " + p.Message
}

// Check reports every static problem in a template: ".$" values that are not strings, not a
// valid path or intrinsic call (wrong name, arity or syntax, with the offset), and a ".$" key
// that collides with a plain key of the same name. Problems are sorted by pointer.
func Check(tmpl any) []Problem {
	var ps []Problem
	check(tmpl, "", &ps)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Pointer < ps[j].Pointer })
	return ps
}

func check(v any, at string, ps *[]Problem) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			ptr := at + "/" + escape(k)
			name, computed := strings.CutSuffix(k, Suffix)
			if !computed {
				check(val, ptr, ps)
				continue
			}
			if name == "" {
				*ps = append(*ps, Problem{ptr, "a key cannot be just \".$\""})
			}
			if _, dup := t[name]; dup {
				*ps = append(*ps, Problem{ptr, fmt.Sprintf("both %q and %q are present", name, k)})
			}
			s, ok := val.(string)
			if !ok {
				*ps = append(*ps, Problem{ptr, fmt.Sprintf("the value of a key ending in \".$\" must be a string holding a path or an intrinsic function, got %s", describe(val))})
				continue
			}
			if msg := CheckExpression(s); msg != "" {
				*ps = append(*ps, Problem{ptr, msg})
			}
		}
	case []any:
		for i, it := range t {
			check(it, at+"/"+strconv.Itoa(i), ps)
		}
	}
}

// CheckExpression checks one ".$" value and returns "" when it is a valid path or intrinsic
// call, or a message saying what is wrong (including the offset).
func CheckExpression(s string) string {
	if strings.HasPrefix(s, "$") {
		if _, err := jsonpath.Parse(s); err != nil {
			return err.Error()
		}
		return ""
	}
	if strings.HasPrefix(s, "States.") {
		if _, err := intrinsic.Parse(s); err != nil {
			return err.Error()
		}
		return ""
	}
	return fmt.Sprintf("%q is neither a path (starting with $) nor an intrinsic function (States.*)", s)
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if jsonpath.IsNumber(v) {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// escape encodes a key as a JSON Pointer reference token (RFC 6901).
func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}
