// Package jsonpath parses and evaluates the JSONPath dialect of the Amazon States Language
// (QueryLanguage "JSONPath"), as used by InputPath, OutputPath, ItemsPath, ResultPath,
// Choice Variable, the "...Path" fields and ".$" payload values.
//
// API in one screen:
//
//	p, err := jsonpath.Parse("$.store.book[?(@.price < 10)].title") // *SyntaxError carries Offset
//	v, err := p.Eval(doc)           // definite path: the value; indefinite path: []any of matches
//	errors.Is(err, jsonpath.ErrNoMatch) // a definite path that selects nothing (engine: States.Runtime)
//	p.IsDefinite(), p.IsContext(), p.IsReference(), p.String(), p.Parts()
//
//	ref, err := jsonpath.ParseReference("$.result.items[0]") // names and non-negative indexes only
//	out, err := jsonpath.Set(doc, ref, value) // ResultPath semantics, copy-on-write (doc untouched)
//	errors.Is(err, jsonpath.ErrCannotSet)     // a non-object/array in the way (engine: States.Runtime)
//	                                          // Set refuses "$$..." paths: ResultPath must not start with "$$"
//	jsonpath.Equal(a, b), jsonpath.IsNumber(v), jsonpath.Join("$", "a", 0) == "$.a[0]"
//
//	jsonpath.IsPath(s), jsonpath.IsContextPath(s), jsonpath.IsReferencePath(s)
//
// Documents are the values encoding/json produces with Decoder.UseNumber: map[string]any,
// []any, string, json.Number, bool and nil (float64 and Go integers are also accepted on input).
// Eval never copies the selected values: callers must not mutate what it returns in place.
//
// Supported syntax (the subset of Jayway JsonPath that Step Functions accepts):
//
//	$  $$ (context object)   .name  ['name'] ["name"]  [n] [-n]  [*] .*  [a:b] [a:b:c]
//	[0,2] ['a','b'] (unions)  ..name ..* ..[n] (deep scan)
//	[?(@.k)] [?(@.price < 10)] [?(@.a == 'x' && @.b != true || @.c >= -1.5)]
//
// Dot-notation names are lenient like Jayway (e.g. "$.detail-type" works), stopping at '.', '[',
// whitespace and the characters ( ) , ' " that delimit a path inside an intrinsic call.
//
// Reference paths (ResultPath, ItemsPath, Choice Variable, ...Path fields) are limited as
// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html says:
// only dot and bracket field access and single integer indexes, no @ , : ? * or "..".
package jsonpath

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoMatch is matched (errors.Is) by the error Eval returns when a definite path selects
// nothing. The engine reports it as States.Runtime.
var ErrNoMatch = errors.New("path matched nothing")

// ErrCannotSet is matched (errors.Is) by the error Set returns when the document shape does
// not allow the assignment (a value that is not an object in the way, an index out of range).
var ErrCannotSet = errors.New("cannot apply path to document")

// SyntaxError reports a malformed path expression.
type SyntaxError struct {
	Expr   string // the whole expression
	Offset int    // byte offset of the problem in Expr
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSONPath %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// NoMatchError says which part of a definite path found nothing.
type NoMatchError struct {
	Path   string // the whole path
	Prefix string // the longest prefix that still matched
	Reason string
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("path %s matched nothing: %s (after %s)", e.Path, e.Reason, e.Prefix)
}

// Is makes errors.Is(err, ErrNoMatch) true.
func (e *NoMatchError) Is(target error) bool { return target == ErrNoMatch }

// SetError explains why Set could not place a value.
type SetError struct {
	Path   string
	Prefix string
	Reason string
}

func (e *SetError) Error() string {
	return fmt.Sprintf("cannot set %s: %s (at %s)", e.Path, e.Reason, e.Prefix)
}

// Is makes errors.Is(err, ErrCannotSet) true.
func (e *SetError) Is(target error) bool { return target == ErrCannotSet }

// Path is a parsed JSONPath expression. It is immutable and safe for concurrent use.
type Path struct {
	src     string
	context bool
	segs    []segment
}

// String returns the expression the path was parsed from.
func (p *Path) String() string { return p.src }

// IsContext reports whether the path starts with "$$" (the context object).
func (p *Path) IsContext() bool { return p.context }

// IsDefinite reports whether the path can select at most one node (no wildcard, slice,
// filter, union or deep scan). Eval returns a definite path's value itself, and an
// indefinite path's matches as an array.
func (p *Path) IsDefinite() bool {
	for _, s := range p.segs {
		if !s.definite() {
			return false
		}
	}
	return true
}

// IsReference reports whether the path is a reference path: field names and single
// non-negative integer indexes only.
func (p *Path) IsReference() bool {
	for _, s := range p.segs {
		if s.deep {
			return false
		}
		switch s.kind {
		case segName:
		case segIndex:
			if s.index < 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Parts returns the steps of a reference path as field names (string) and indexes (int), e.g.
// ["Execution", "Input"] for "$$.Execution.Input"; ok is false for other paths. It is the
// inverse of Join and lets the validator look at context-object references.
func (p *Path) Parts() (parts []any, ok bool) {
	if !p.IsReference() {
		return nil, false
	}
	parts = make([]any, len(p.segs))
	for i, s := range p.segs {
		if s.kind == segName {
			parts[i] = s.name
		} else {
			parts[i] = s.index
		}
	}
	return parts, true
}

// IsPath reports whether s parses as a path (starting with "$" or "$$").
func IsPath(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// IsContextPath reports whether s is written against the context object ("$$...").
// It only looks at the prefix; use Parse to check the rest.
func IsContextPath(s string) bool { return strings.HasPrefix(s, "$$") }

// IsReferencePath reports whether s parses as a reference path.
func IsReferencePath(s string) bool {
	_, err := ParseReference(s)
	return err == nil
}

// ParseReference parses a reference path, as ResultPath, ItemsPath, Variable and the
// "...Path" fields require. The error offset points at the first disallowed segment.
func ParseReference(expr string) (*Path, error) {
	p, err := Parse(expr)
	if err != nil {
		return nil, err
	}
	for _, s := range p.segs {
		bad := ""
		switch {
		case s.deep:
			bad = "deep scan '..' is not allowed in a reference path"
		case s.kind == segWildcard:
			bad = "wildcard '*' is not allowed in a reference path"
		case s.kind == segSlice:
			bad = "slice is not allowed in a reference path"
		case s.kind == segFilter:
			bad = "filter is not allowed in a reference path"
		case s.kind == segUnion:
			bad = "union is not allowed in a reference path"
		case s.kind == segIndex && s.index < 0:
			bad = "negative index is not allowed in a reference path"
		}
		if bad != "" {
			return nil, &SyntaxError{Expr: expr, Offset: s.pos, Msg: bad}
		}
	}
	return p, nil
}

// MustParse is Parse for expressions known to be valid (tests, constants); it panics on error.
func MustParse(expr string) *Path {
	p, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return p
}

type segKind int

const (
	segName segKind = iota
	segIndex
	segWildcard
	segSlice
	segFilter
	segUnion
)

type segment struct {
	kind  segKind
	pos   int  // offset of the segment in the expression
	deep  bool // preceded by ".."
	name  string
	index int
	// slice bounds; nil means "omitted"
	start, end *int
	step       int
	filter     expr
	// union members: either names or indexes
	names   []string
	indexes []int
}

func (s segment) definite() bool {
	if s.deep {
		return false
	}
	return s.kind == segName || s.kind == segIndex
}
