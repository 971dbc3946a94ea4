package intrinsic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

// Rand is the random source of States.MathRandom; *math/rand/v2.Rand satisfies it.
type Rand interface {
	Int64N(n int64) int64
}

// Env is what a call is evaluated against.
type Env struct {
	Input   any // the document "$..." paths read (the effective input of the state)
	Context any // the context object "$$..." paths read

	// Rand draws States.MathRandom numbers when no seed is given; nil uses math/rand/v2's
	// global source. Eval calls it from the caller's goroutine: an Env shared by concurrent
	// evaluations (Map iterations) needs a source that is safe for concurrent use.
	Rand Rand
	// UUID returns a version 4 UUID for States.UUID; nil uses github.com/google/uuid.
	// The same concurrency note applies.
	UUID func() (string, error)
}

// Eval evaluates a parsed call. Errors are *Error.
func Eval(call *Call, env Env) (any, error) {
	args := make([]any, len(call.Args))
	for i, a := range call.Args {
		switch a.Kind {
		case ArgPath:
			doc := env.Input
			if a.Path.IsContext() {
				doc = env.Context
			}
			v, err := a.Path.Eval(doc)
			if err != nil {
				return nil, &Error{Name: ErrRuntime, Err: err,
					Cause: fmt.Sprintf("The JsonPath argument %s of the function '%s' could not be found: %v", a.Path, call.Name, err)}
			}
			args[i] = v
		case ArgCall:
			v, err := Eval(a.Call, env)
			if err != nil {
				return nil, err
			}
			args[i] = v
		default:
			args[i] = a.Value()
		}
	}
	return call.spec.Impl(env, call, args)
}

// EvalString parses and evaluates expr in one step.
func EvalString(expr string, env Env) (any, error) {
	c, err := Parse(expr)
	if err != nil {
		return nil, err
	}
	return Eval(c, env)
}

// ---- argument helpers ----

func argArray(call *Call, args []any, i int) ([]any, error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, failure(call, "argument %d must be an array, got %s", i+1, kind(args[i]))
	}
	return a, nil
}

func argString(call *Call, args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", failure(call, "argument %d must be a string, got %s", i+1, kind(args[i]))
	}
	return s, nil
}

func argObject(call *Call, args []any, i int) (map[string]any, error) {
	m, ok := args[i].(map[string]any)
	if !ok {
		return nil, failure(call, "argument %d must be a JSON object, got %s", i+1, kind(args[i]))
	}
	return m, nil
}

// argInt reads an integer argument. AWS documents that non-integers are rounded to the
// nearest integer; Java's Math.round rounds halves up (toward positive infinity).
func argInt(call *Call, args []any, i int) (int64, error) {
	r, ok := toRat(args[i])
	if !ok {
		return 0, failure(call, "argument %d must be a number, got %s", i+1, kind(args[i]))
	}
	if !r.IsInt() {
		half := new(big.Rat).Add(r, big.NewRat(1, 2))
		q := new(big.Int).Div(half.Num(), half.Denom()) // Euclidean division: floor for positive denominators
		r = new(big.Rat).SetInt(q)
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, failure(call, "argument %d is out of range", i+1)
	}
	return n.Int64(), nil
}

func toRat(v any) (*big.Rat, bool) {
	switch t := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(string(t))
	case float64:
		if !jsonpath.IsNumber(t) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(t), true
	case int:
		return new(big.Rat).SetInt64(int64(t)), true
	case int64:
		return new(big.Rat).SetInt64(t), true
	}
	return nil, false
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
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

func num(n int64) json.Number { return json.Number(fmt.Sprint(n)) }

// marshal renders compact JSON without HTML escaping (Jackson, behind AWS, does not escape
// <, > and &).
func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// utf16Len counts characters the way Java's String.length does, which is how AWS's
// "10,000 characters" limits are measured.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func defaultRand(n int64) int64 { return rand.Int64N(n) }

func newUUID(env Env) (string, error) {
	if env.UUID != nil {
		return env.UUID()
	}
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate uuid: %w", err)
	}
	return u.String(), nil
}
