package asl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Intrinsic function helpers. Each returns an Expr to use as a ".$" value
// (Obj appends the ".$" for you):
//
//	asl.Obj("count", asl.MathAdd(asl.Ref("$.attempt.count"), 1))
//	// {"count.$": "States.MathAdd($.attempt.count, 1)"}
//
// Arguments: an Expr (Ref("$.x"), "$$.Execution.Id", or another helper's
// result) is written as is; a Go string or Str becomes a quoted literal
// ('...' with \ and ' escaped; "{}" stays a Format placeholder); integers,
// floats and json.Number become numbers; bool and nil become true, false,
// null. The helpers are variadic on purpose: the function name and the
// number of arguments are checked by Build (against the table in package
// asl/intrinsic), which reports every mistake at once.
//
// Reference: https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html

// Call renders an intrinsic call by name, e.g. Call("States.UUID").
func Call(name string, args ...any) Expr {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = renderArg(a)
	}
	return Expr(name + "(" + strings.Join(parts, ", ") + ")")
}

func renderArg(a any) string {
	switch t := a.(type) {
	case Expr:
		return string(t)
	case Str:
		return quoteIntrinsic(string(t))
	case string:
		return quoteIntrinsic(t)
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return string(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	// Not a JSON scalar: render something Build will reject with a clear
	// parse error rather than guessing.
	return fmt.Sprintf("<unsupported %T>", a)
}

// quoteIntrinsic quotes a string literal for an intrinsic call.
func quoteIntrinsic(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s + "'"
}

// Format is States.Format(template, values...).
func Format(args ...any) Expr { return Call("States.Format", args...) }

// StringToJson is States.StringToJson(string).
func StringToJson(args ...any) Expr { return Call("States.StringToJson", args...) }

// JsonToString is States.JsonToString(path).
func JsonToString(args ...any) Expr { return Call("States.JsonToString", args...) }

// Array is States.Array(values...).
func Array(args ...any) Expr { return Call("States.Array", args...) }

// ArrayPartition is States.ArrayPartition(array, chunkSize).
func ArrayPartition(args ...any) Expr { return Call("States.ArrayPartition", args...) }

// ArrayContains is States.ArrayContains(array, value).
func ArrayContains(args ...any) Expr { return Call("States.ArrayContains", args...) }

// ArrayRange is States.ArrayRange(start, end, step).
func ArrayRange(args ...any) Expr { return Call("States.ArrayRange", args...) }

// ArrayGetItem is States.ArrayGetItem(array, index).
func ArrayGetItem(args ...any) Expr { return Call("States.ArrayGetItem", args...) }

// ArrayLength is States.ArrayLength(array).
func ArrayLength(args ...any) Expr { return Call("States.ArrayLength", args...) }

// ArrayUnique is States.ArrayUnique(array).
func ArrayUnique(args ...any) Expr { return Call("States.ArrayUnique", args...) }

// Base64Encode is States.Base64Encode(string).
func Base64Encode(args ...any) Expr { return Call("States.Base64Encode", args...) }

// Base64Decode is States.Base64Decode(string).
func Base64Decode(args ...any) Expr { return Call("States.Base64Decode", args...) }

// Hash is States.Hash(data, algorithm).
func Hash(args ...any) Expr { return Call("States.Hash", args...) }

// JsonMerge is States.JsonMerge(a, b, deep) (deep must be false).
func JsonMerge(args ...any) Expr { return Call("States.JsonMerge", args...) }

// MathRandom is States.MathRandom(start, end[, seed]).
func MathRandom(args ...any) Expr { return Call("States.MathRandom", args...) }

// MathAdd is States.MathAdd(a, b).
func MathAdd(args ...any) Expr { return Call("States.MathAdd", args...) }

// StringSplit is States.StringSplit(string, delimiters).
func StringSplit(args ...any) Expr { return Call("States.StringSplit", args...) }

// UUID is States.UUID().
func UUID(args ...any) Expr { return Call("States.UUID", args...) }
