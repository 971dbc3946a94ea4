package asl

import (
	"encoding/json"
	"strconv"
)

// Choice rule constructors, one per comparison operator, plus And, Or and
// Not. Use them with ChoiceBuilder.When:
//
//	asl.Choice("Check").
//		When(asl.And(asl.IsPresent("$.poll.ready", true), asl.BooleanEquals("$.poll.ready", true)), "Done").
//		Default("Wait")
//
// Reference: https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html

// Numeric is the set of Go number types accepted by the Numeric* operators.
type Numeric interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64 | ~float32 | ~float64
}

func number[N Numeric](n N) *json.Number {
	var s string
	switch x := any(n).(type) {
	case float32:
		s = strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		if float64(n) < 0 {
			s = strconv.FormatInt(int64(n), 10)
		} else {
			s = strconv.FormatUint(uint64(n), 10)
		}
	}
	v := json.Number(s)
	return &v
}

// And holds when every rule holds.
func And(rules ...ChoiceRule) ChoiceRule { return ChoiceRule{And: rules} }

// Or holds when any rule holds.
func Or(rules ...ChoiceRule) ChoiceRule { return ChoiceRule{Or: rules} }

// Not holds when rule does not.
func Not(rule ChoiceRule) ChoiceRule { return ChoiceRule{Not: &rule} }

// StringEquals compares the value at variable with a string.
func StringEquals(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringEquals: &value}
}

// StringEqualsPath compares the values at variable and path.
func StringEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringEqualsPath: &path}
}

// StringLessThan compares the value at variable with a string.
func StringLessThan(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringLessThan: &value}
}

// StringLessThanPath compares the values at variable and path.
func StringLessThanPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringLessThanPath: &path}
}

// StringGreaterThan compares the value at variable with a string.
func StringGreaterThan(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringGreaterThan: &value}
}

// StringGreaterThanPath compares the values at variable and path.
func StringGreaterThanPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringGreaterThanPath: &path}
}

// StringLessThanEquals compares the value at variable with a string.
func StringLessThanEquals(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringLessThanEquals: &value}
}

// StringLessThanEqualsPath compares the values at variable and path.
func StringLessThanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringLessThanEqualsPath: &path}
}

// StringGreaterThanEquals compares the value at variable with a string.
func StringGreaterThanEquals(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringGreaterThanEquals: &value}
}

// StringGreaterThanEqualsPath compares the values at variable and path.
func StringGreaterThanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringGreaterThanEqualsPath: &path}
}

// NumericEquals compares the number at variable with n.
func NumericEquals[N Numeric](variable string, n N) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericEquals: number(n)}
}

// NumericEqualsPath compares the values at variable and path.
func NumericEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericEqualsPath: &path}
}

// NumericLessThan compares the number at variable with n.
func NumericLessThan[N Numeric](variable string, n N) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericLessThan: number(n)}
}

// NumericLessThanPath compares the values at variable and path.
func NumericLessThanPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericLessThanPath: &path}
}

// NumericGreaterThan compares the number at variable with n.
func NumericGreaterThan[N Numeric](variable string, n N) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericGreaterThan: number(n)}
}

// NumericGreaterThanPath compares the values at variable and path.
func NumericGreaterThanPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericGreaterThanPath: &path}
}

// NumericLessThanEquals compares the number at variable with n.
func NumericLessThanEquals[N Numeric](variable string, n N) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericLessThanEquals: number(n)}
}

// NumericLessThanEqualsPath compares the values at variable and path.
func NumericLessThanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericLessThanEqualsPath: &path}
}

// NumericGreaterThanEquals compares the number at variable with n.
func NumericGreaterThanEquals[N Numeric](variable string, n N) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericGreaterThanEquals: number(n)}
}

// NumericGreaterThanEqualsPath compares the values at variable and path.
func NumericGreaterThanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, NumericGreaterThanEqualsPath: &path}
}

// TimestampEquals compares the value at variable with an RFC 3339 timestamp.
func TimestampEquals(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampEquals: &value}
}

// TimestampEqualsPath compares the values at variable and path.
func TimestampEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampEqualsPath: &path}
}

// TimestampLessThan compares the value at variable with an RFC 3339 timestamp.
func TimestampLessThan(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampLessThan: &value}
}

// TimestampLessThanPath compares the values at variable and path.
func TimestampLessThanPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampLessThanPath: &path}
}

// TimestampGreaterThan compares the value at variable with an RFC 3339 timestamp.
func TimestampGreaterThan(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampGreaterThan: &value}
}

// TimestampGreaterThanPath compares the values at variable and path.
func TimestampGreaterThanPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampGreaterThanPath: &path}
}

// TimestampLessThanEquals compares the value at variable with an RFC 3339 timestamp.
func TimestampLessThanEquals(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampLessThanEquals: &value}
}

// TimestampLessThanEqualsPath compares the values at variable and path.
func TimestampLessThanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampLessThanEqualsPath: &path}
}

// TimestampGreaterThanEquals compares the value at variable with an RFC 3339 timestamp.
func TimestampGreaterThanEquals(variable, value string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampGreaterThanEquals: &value}
}

// TimestampGreaterThanEqualsPath compares the values at variable and path.
func TimestampGreaterThanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, TimestampGreaterThanEqualsPath: &path}
}

// BooleanEquals compares the boolean at variable with b.
func BooleanEquals(variable string, b bool) ChoiceRule {
	return ChoiceRule{Variable: variable, BooleanEquals: &b}
}

// BooleanEqualsPath compares the values at variable and path.
func BooleanEqualsPath(variable, path string) ChoiceRule {
	return ChoiceRule{Variable: variable, BooleanEqualsPath: &path}
}

// StringMatches matches the string at variable against a pattern in which
// "*" matches any run of characters (escape with \\*).
func StringMatches(variable, pattern string) ChoiceRule {
	return ChoiceRule{Variable: variable, StringMatches: &pattern}
}

// IsPresent holds when (the variable exists) == want.
func IsPresent(variable string, want bool) ChoiceRule {
	return ChoiceRule{Variable: variable, IsPresent: &want}
}

// IsNull holds when (the value is null) == want.
func IsNull(variable string, want bool) ChoiceRule {
	return ChoiceRule{Variable: variable, IsNull: &want}
}

// IsNumeric holds when (the value is a number) == want.
func IsNumeric(variable string, want bool) ChoiceRule {
	return ChoiceRule{Variable: variable, IsNumeric: &want}
}

// IsString holds when (the value is a string) == want.
func IsString(variable string, want bool) ChoiceRule {
	return ChoiceRule{Variable: variable, IsString: &want}
}

// IsBoolean holds when (the value is a boolean) == want.
func IsBoolean(variable string, want bool) ChoiceRule {
	return ChoiceRule{Variable: variable, IsBoolean: &want}
}

// IsTimestamp holds when (the value is an RFC 3339 timestamp string) == want.
func IsTimestamp(variable string, want bool) ChoiceRule {
	return ChoiceRule{Variable: variable, IsTimestamp: &want}
}
