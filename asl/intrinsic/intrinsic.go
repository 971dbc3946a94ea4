// Package intrinsic parses and evaluates the Amazon States Language intrinsic functions
// (States.Format, States.Array, ... all 18 of them) as they appear in ".$" payload values of
// JSONPath states. Reference:
// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
//
// API in one screen:
//
//	call, err := intrinsic.Parse("States.Format('Hello, {}!', $.name)") // *SyntaxError with Offset
//	v, err := intrinsic.Eval(call, intrinsic.Env{Input: in, Context: ctx})
//	var e *intrinsic.Error; errors.As(err, &e) // e.Name is the ASL error name, e.Cause the text
//	spec, ok := intrinsic.Lookup("States.Hash")  // spec.MinArgs, spec.MaxArgs (-1 = variadic), spec.Impl
//	intrinsic.Names()                           // the 18 names, sorted
//	intrinsic.LooksLikeCall(s)                  // "States.<name>(" prefix: parse as a call, not a path
//	call.Lint()                                 // problems AWS only reports at run time (Format placeholders)
//	call.Paths()                                // every path argument, nested calls included
//
// Parse checks the syntax, the function name and the argument count. A literal States.Format
// template whose "{}" count differs from its values is accepted by Parse (AWS's own nine-call
// example in the developer guide has that mistake) and reported by Lint and at run time. Eval
// evaluates path arguments ("$..." against Env.Input, "$$..." against Env.Context) and fails
// with *Error named States.IntrinsicFailure for bad argument values, or States.Runtime when a
// path argument matches nothing. Randomness (States.MathRandom without seed) and UUIDs
// (States.UUID) come from Env so tests are deterministic; nil means a real source.
//
// Values use the encoding/json UseNumber representation; numbers produced are json.Number.
//
// Argument syntax: 'string' (escapes \' \{ \} \\ only; any other backslash is an error, as AWS
// documents), JSON numbers, null, paths and nested calls (at most 10 deep), as the ASL spec
// (https://states-language.net/spec.html, "Intrinsic Functions") lists; and true/false, which
// the spec omits but AWS's own States.JsonMerge example needs.
package intrinsic

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

// ASL error names produced by this package.
const (
	ErrIntrinsicFailure = "States.IntrinsicFailure"
	ErrRuntime          = "States.Runtime"
)

// MaxNesting is how deep calls may nest within one field ("You can nest up to 10 intrinsic
// functions within a field").
const MaxNesting = 10

// Error is a failure while evaluating an intrinsic function, carrying the ASL error name the
// engine reports (States.IntrinsicFailure, or States.Runtime for a path that matched nothing).
type Error struct {
	Name  string
	Cause string
	Err   error // underlying error, if any
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

// Unwrap exposes the underlying error (e.g. one matching jsonpath.ErrNoMatch).
func (e *Error) Unwrap() error { return e.Err }

func failure(call *Call, format string, args ...any) *Error {
	return &Error{Name: ErrIntrinsicFailure, Cause: fmt.Sprintf("The function '%s' had the following error: %s", call.Name, fmt.Sprintf(format, args...))}
}

// SyntaxError reports a malformed intrinsic function call.
type SyntaxError struct {
	Expr   string
	Offset int // byte offset of the problem in Expr
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid intrinsic function %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// ArgKind says what an argument is.
type ArgKind int

// Argument kinds.
const (
	ArgString ArgKind = iota
	ArgNumber
	ArgBool
	ArgNull
	ArgPath
	ArgCall
)

// Arg is one argument of a call.
type Arg struct {
	Kind ArgKind
	Pos  int            // byte offset in the whole expression
	Str  string         // ArgString: the unescaped value
	Num  json.Number    // ArgNumber
	Bool bool           // ArgBool
	Path *jsonpath.Path // ArgPath
	Call *Call          // ArgCall

	// ArgString: the text around each unescaped "{}" (len = placeholders+1); an escaped
	// \{ \} is literal text, so a template's placeholders are only known before unescaping.
	parts []string
}

// Value returns the literal value of a string, number, boolean or null argument.
func (a Arg) Value() any {
	switch a.Kind {
	case ArgString:
		return a.Str
	case ArgNumber:
		return a.Num
	case ArgBool:
		return a.Bool
	}
	return nil
}

// Call is a parsed intrinsic function invocation. It is immutable after Parse.
type Call struct {
	Name string // e.g. "States.Format"
	Pos  int    // byte offset of the name in the expression
	Args []Arg
	spec Spec
}

// Paths returns every path argument, including those of nested calls, in order; the
// validator uses it to check context references and the engine does not need it.
func (c *Call) Paths() []*jsonpath.Path {
	var out []*jsonpath.Path
	for _, a := range c.Args {
		switch a.Kind {
		case ArgPath:
			out = append(out, a.Path)
		case ArgCall:
			out = append(out, a.Call.Paths()...)
		}
	}
	return out
}

// LooksLikeCall reports whether s has the shape of an intrinsic call ("States.X(") rather
// than a path. Use Parse to check it fully.
func LooksLikeCall(s string) bool {
	if !strings.HasPrefix(s, "States.") {
		return false
	}
	i := len("States.")
	for i < len(s) && isIdent(s[i]) {
		i++
	}
	return i < len(s) && s[i] == '('
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// Lint returns problems that make the call fail whenever it runs but that AWS does not reject
// when a definition is created: today, a literal States.Format template whose number of "{}"
// placeholders differs from the number of values (in this call or nested ones).
func (c *Call) Lint() []string {
	var out []string
	if c.Name == "States.Format" && len(c.Args) > 0 && c.Args[0].Kind == ArgString {
		if holes := len(c.Args[0].parts) - 1; holes != len(c.Args)-1 {
			out = append(out, fmt.Sprintf("offset %d: States.Format template has %d '{}' placeholders but %d values follow", c.Args[0].Pos, holes, len(c.Args)-1))
		}
	}
	for _, a := range c.Args {
		if a.Kind == ArgCall {
			out = append(out, a.Call.Lint()...)
		}
	}
	return out
}
