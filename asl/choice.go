package asl

// Code in this file lists every Choice comparison operator once; keep the
// struct fields and the comparisonOps table in the same order.

import "encoding/json"

// ChoiceRule is a Choice state rule. A top-level rule (an element of
// State.Choices) has Next; nested rules (inside And, Or, Not) do not.
// A rule is either a boolean combination (exactly one of And, Or, Not) or a
// comparison: Variable plus exactly one operator field. Operator fields
// ending in Path compare against the value at a path; the others compare
// against a literal. Comparison returns the operator that is set.
type ChoiceRule struct {
	Comment  string       `json:"Comment,omitempty"`
	Variable string       `json:"Variable,omitempty"`
	And      []ChoiceRule `json:"And,omitempty"`
	Or       []ChoiceRule `json:"Or,omitempty"`
	Not      *ChoiceRule  `json:"Not,omitempty"`

	StringEquals                   *string      `json:"StringEquals,omitempty"`
	StringEqualsPath               *string      `json:"StringEqualsPath,omitempty"`
	StringLessThan                 *string      `json:"StringLessThan,omitempty"`
	StringLessThanPath             *string      `json:"StringLessThanPath,omitempty"`
	StringGreaterThan              *string      `json:"StringGreaterThan,omitempty"`
	StringGreaterThanPath          *string      `json:"StringGreaterThanPath,omitempty"`
	StringLessThanEquals           *string      `json:"StringLessThanEquals,omitempty"`
	StringLessThanEqualsPath       *string      `json:"StringLessThanEqualsPath,omitempty"`
	StringGreaterThanEquals        *string      `json:"StringGreaterThanEquals,omitempty"`
	StringGreaterThanEqualsPath    *string      `json:"StringGreaterThanEqualsPath,omitempty"`
	StringMatches                  *string      `json:"StringMatches,omitempty"`
	NumericEquals                  *json.Number `json:"NumericEquals,omitempty"`
	NumericEqualsPath              *string      `json:"NumericEqualsPath,omitempty"`
	NumericLessThan                *json.Number `json:"NumericLessThan,omitempty"`
	NumericLessThanPath            *string      `json:"NumericLessThanPath,omitempty"`
	NumericGreaterThan             *json.Number `json:"NumericGreaterThan,omitempty"`
	NumericGreaterThanPath         *string      `json:"NumericGreaterThanPath,omitempty"`
	NumericLessThanEquals          *json.Number `json:"NumericLessThanEquals,omitempty"`
	NumericLessThanEqualsPath      *string      `json:"NumericLessThanEqualsPath,omitempty"`
	NumericGreaterThanEquals       *json.Number `json:"NumericGreaterThanEquals,omitempty"`
	NumericGreaterThanEqualsPath   *string      `json:"NumericGreaterThanEqualsPath,omitempty"`
	BooleanEquals                  *bool        `json:"BooleanEquals,omitempty"`
	BooleanEqualsPath              *string      `json:"BooleanEqualsPath,omitempty"`
	TimestampEquals                *string      `json:"TimestampEquals,omitempty"`
	TimestampEqualsPath            *string      `json:"TimestampEqualsPath,omitempty"`
	TimestampLessThan              *string      `json:"TimestampLessThan,omitempty"`
	TimestampLessThanPath          *string      `json:"TimestampLessThanPath,omitempty"`
	TimestampGreaterThan           *string      `json:"TimestampGreaterThan,omitempty"`
	TimestampGreaterThanPath       *string      `json:"TimestampGreaterThanPath,omitempty"`
	TimestampLessThanEquals        *string      `json:"TimestampLessThanEquals,omitempty"`
	TimestampLessThanEqualsPath    *string      `json:"TimestampLessThanEqualsPath,omitempty"`
	TimestampGreaterThanEquals     *string      `json:"TimestampGreaterThanEquals,omitempty"`
	TimestampGreaterThanEqualsPath *string      `json:"TimestampGreaterThanEqualsPath,omitempty"`
	IsNull                         *bool        `json:"IsNull,omitempty"`
	IsPresent                      *bool        `json:"IsPresent,omitempty"`
	IsNumeric                      *bool        `json:"IsNumeric,omitempty"`
	IsString                       *bool        `json:"IsString,omitempty"`
	IsBoolean                      *bool        `json:"IsBoolean,omitempty"`
	IsTimestamp                    *bool        `json:"IsTimestamp,omitempty"`

	// Assign sets variables when this (top-level) rule matches.
	Assign *Value `json:"Assign,omitempty"`
	// Next is the state to go to when this top-level rule matches.
	Next string `json:"Next,omitempty"`
}

// OperandKind says what kind of operand a comparison operator takes.
type OperandKind string

// Operand kinds.
const (
	OperandString    OperandKind = "string"
	OperandNumber    OperandKind = "number"
	OperandBool      OperandKind = "bool"
	OperandTimestamp OperandKind = "timestamp"
	OperandPath      OperandKind = "path"
)

// ComparisonOperator describes one comparison operator field.
type ComparisonOperator struct {
	Name    string      // e.g. "NumericLessThanEqualsPath"
	Operand OperandKind // what its value is
	get     func(r *ChoiceRule) (any, bool)
	set     func(r *ChoiceRule, v any)
}

// ComparisonOperators lists every comparison operator in a fixed order
// (string, numeric, boolean, timestamp, type tests).
func ComparisonOperators() []ComparisonOperator {
	return append([]ComparisonOperator(nil), comparisonOps...)
}

// Comparison returns the name and operand of the comparison operator set on
// r: a string for string, timestamp and path operands, json.Number for
// numeric literals, bool for BooleanEquals and the Is* tests. ok is false
// when no operator is set; Operators lists them all when several are.
func (r *ChoiceRule) Comparison() (op string, operand any, ok bool) {
	for _, c := range comparisonOps {
		if v, set := c.get(r); set {
			return c.Name, v, true
		}
	}
	return "", nil, false
}

// Operators lists the names of every comparison operator set on r (a valid
// rule has at most one).
func (r *ChoiceRule) Operators() []string {
	var out []string
	for _, c := range comparisonOps {
		if _, set := c.get(r); set {
			out = append(out, c.Name)
		}
	}
	return out
}

var comparisonOps = []ComparisonOperator{
	{Name: "StringEquals", Operand: OperandString,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringEquals == nil {
				return nil, false
			}
			return *r.StringEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringEquals = &x }},
	{Name: "StringEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringEqualsPath == nil {
				return nil, false
			}
			return *r.StringEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringEqualsPath = &x }},
	{Name: "StringLessThan", Operand: OperandString,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringLessThan == nil {
				return nil, false
			}
			return *r.StringLessThan, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringLessThan = &x }},
	{Name: "StringLessThanPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringLessThanPath == nil {
				return nil, false
			}
			return *r.StringLessThanPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringLessThanPath = &x }},
	{Name: "StringGreaterThan", Operand: OperandString,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringGreaterThan == nil {
				return nil, false
			}
			return *r.StringGreaterThan, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringGreaterThan = &x }},
	{Name: "StringGreaterThanPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringGreaterThanPath == nil {
				return nil, false
			}
			return *r.StringGreaterThanPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringGreaterThanPath = &x }},
	{Name: "StringLessThanEquals", Operand: OperandString,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringLessThanEquals == nil {
				return nil, false
			}
			return *r.StringLessThanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringLessThanEquals = &x }},
	{Name: "StringLessThanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringLessThanEqualsPath == nil {
				return nil, false
			}
			return *r.StringLessThanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringLessThanEqualsPath = &x }},
	{Name: "StringGreaterThanEquals", Operand: OperandString,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringGreaterThanEquals == nil {
				return nil, false
			}
			return *r.StringGreaterThanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringGreaterThanEquals = &x }},
	{Name: "StringGreaterThanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringGreaterThanEqualsPath == nil {
				return nil, false
			}
			return *r.StringGreaterThanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringGreaterThanEqualsPath = &x }},
	{Name: "StringMatches", Operand: OperandString,
		get: func(r *ChoiceRule) (any, bool) {
			if r.StringMatches == nil {
				return nil, false
			}
			return *r.StringMatches, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.StringMatches = &x }},
	{Name: "NumericEquals", Operand: OperandNumber,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericEquals == nil {
				return nil, false
			}
			return *r.NumericEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(json.Number); r.NumericEquals = &x }},
	{Name: "NumericEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericEqualsPath == nil {
				return nil, false
			}
			return *r.NumericEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.NumericEqualsPath = &x }},
	{Name: "NumericLessThan", Operand: OperandNumber,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericLessThan == nil {
				return nil, false
			}
			return *r.NumericLessThan, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(json.Number); r.NumericLessThan = &x }},
	{Name: "NumericLessThanPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericLessThanPath == nil {
				return nil, false
			}
			return *r.NumericLessThanPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.NumericLessThanPath = &x }},
	{Name: "NumericGreaterThan", Operand: OperandNumber,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericGreaterThan == nil {
				return nil, false
			}
			return *r.NumericGreaterThan, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(json.Number); r.NumericGreaterThan = &x }},
	{Name: "NumericGreaterThanPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericGreaterThanPath == nil {
				return nil, false
			}
			return *r.NumericGreaterThanPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.NumericGreaterThanPath = &x }},
	{Name: "NumericLessThanEquals", Operand: OperandNumber,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericLessThanEquals == nil {
				return nil, false
			}
			return *r.NumericLessThanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(json.Number); r.NumericLessThanEquals = &x }},
	{Name: "NumericLessThanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericLessThanEqualsPath == nil {
				return nil, false
			}
			return *r.NumericLessThanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.NumericLessThanEqualsPath = &x }},
	{Name: "NumericGreaterThanEquals", Operand: OperandNumber,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericGreaterThanEquals == nil {
				return nil, false
			}
			return *r.NumericGreaterThanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(json.Number); r.NumericGreaterThanEquals = &x }},
	{Name: "NumericGreaterThanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.NumericGreaterThanEqualsPath == nil {
				return nil, false
			}
			return *r.NumericGreaterThanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.NumericGreaterThanEqualsPath = &x }},
	{Name: "BooleanEquals", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.BooleanEquals == nil {
				return nil, false
			}
			return *r.BooleanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.BooleanEquals = &x }},
	{Name: "BooleanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.BooleanEqualsPath == nil {
				return nil, false
			}
			return *r.BooleanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.BooleanEqualsPath = &x }},
	{Name: "TimestampEquals", Operand: OperandTimestamp,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampEquals == nil {
				return nil, false
			}
			return *r.TimestampEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampEquals = &x }},
	{Name: "TimestampEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampEqualsPath == nil {
				return nil, false
			}
			return *r.TimestampEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampEqualsPath = &x }},
	{Name: "TimestampLessThan", Operand: OperandTimestamp,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampLessThan == nil {
				return nil, false
			}
			return *r.TimestampLessThan, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampLessThan = &x }},
	{Name: "TimestampLessThanPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampLessThanPath == nil {
				return nil, false
			}
			return *r.TimestampLessThanPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampLessThanPath = &x }},
	{Name: "TimestampGreaterThan", Operand: OperandTimestamp,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampGreaterThan == nil {
				return nil, false
			}
			return *r.TimestampGreaterThan, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampGreaterThan = &x }},
	{Name: "TimestampGreaterThanPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampGreaterThanPath == nil {
				return nil, false
			}
			return *r.TimestampGreaterThanPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampGreaterThanPath = &x }},
	{Name: "TimestampLessThanEquals", Operand: OperandTimestamp,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampLessThanEquals == nil {
				return nil, false
			}
			return *r.TimestampLessThanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampLessThanEquals = &x }},
	{Name: "TimestampLessThanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampLessThanEqualsPath == nil {
				return nil, false
			}
			return *r.TimestampLessThanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampLessThanEqualsPath = &x }},
	{Name: "TimestampGreaterThanEquals", Operand: OperandTimestamp,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampGreaterThanEquals == nil {
				return nil, false
			}
			return *r.TimestampGreaterThanEquals, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampGreaterThanEquals = &x }},
	{Name: "TimestampGreaterThanEqualsPath", Operand: OperandPath,
		get: func(r *ChoiceRule) (any, bool) {
			if r.TimestampGreaterThanEqualsPath == nil {
				return nil, false
			}
			return *r.TimestampGreaterThanEqualsPath, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(string); r.TimestampGreaterThanEqualsPath = &x }},
	{Name: "IsNull", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.IsNull == nil {
				return nil, false
			}
			return *r.IsNull, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.IsNull = &x }},
	{Name: "IsPresent", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.IsPresent == nil {
				return nil, false
			}
			return *r.IsPresent, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.IsPresent = &x }},
	{Name: "IsNumeric", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.IsNumeric == nil {
				return nil, false
			}
			return *r.IsNumeric, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.IsNumeric = &x }},
	{Name: "IsString", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.IsString == nil {
				return nil, false
			}
			return *r.IsString, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.IsString = &x }},
	{Name: "IsBoolean", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.IsBoolean == nil {
				return nil, false
			}
			return *r.IsBoolean, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.IsBoolean = &x }},
	{Name: "IsTimestamp", Operand: OperandBool,
		get: func(r *ChoiceRule) (any, bool) {
			if r.IsTimestamp == nil {
				return nil, false
			}
			return *r.IsTimestamp, true
		},
		set: func(r *ChoiceRule, v any) { x := v.(bool); r.IsTimestamp = &x }},
}
