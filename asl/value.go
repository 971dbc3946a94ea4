package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"

	"github.com/invopop/jsonschema"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The JSON types. The zero Kind is Null so a zero Value is JSON null.
const (
	KindNull Kind = iota
	KindBool
	KindNumber
	KindString
	KindArray
	KindObject
)

func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "boolean"
	case KindNumber:
		return "number"
	case KindString:
		return "string"
	case KindArray:
		return "array"
	case KindObject:
		return "object"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is an arbitrary JSON value that keeps the order of object members, so
// payload templates (Parameters, ResultSelector, Result, ItemSelector, ...)
// marshal back exactly in the order they were written. Numbers are kept as
// json.Number so large integers survive exactly.
//
// Only the field matching Kind is meaningful. A Value is plain data; treat a
// Value obtained from Parse as read-only.
type Value struct {
	Kind   Kind
	Bool   bool
	Number json.Number
	Str    string
	Items  []Value  // Kind == Array
	Fields []Member // Kind == Object, in document order
}

// Member is one name/value pair of a JSON object.
type Member struct {
	Key   string
	Value Value
}

// Get returns the value of the first member named key of an object.
func (v Value) Get(key string) (Value, bool) {
	for _, m := range v.Fields {
		if m.Key == key {
			return m.Value, true
		}
	}
	return Value{}, false
}

// Interface converts v to the plain Go representation used by
// encoding/json with UseNumber: nil, bool, json.Number, string, []any and
// map[string]any (member order is lost).
func (v Value) Interface() any {
	switch v.Kind {
	case KindBool:
		return v.Bool
	case KindNumber:
		return v.Number
	case KindString:
		return v.Str
	case KindArray:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Interface()
		}
		return out
	case KindObject:
		out := make(map[string]any, len(v.Fields))
		for _, m := range v.Fields {
			out[m.Key] = m.Value.Interface()
		}
		return out
	}
	return nil
}

// MarshalJSON writes v compactly, members in their stored order.
func (v Value) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := v.write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (v Value) write(buf *bytes.Buffer) error {
	switch v.Kind {
	case KindNull:
		buf.WriteString("null")
	case KindBool:
		buf.WriteString(strconv.FormatBool(v.Bool))
	case KindNumber:
		if !isJSONNumber(string(v.Number)) {
			return fmt.Errorf("invalid number %q", v.Number)
		}
		buf.WriteString(string(v.Number))
	case KindString:
		writeString(buf, v.Str)
	case KindArray:
		buf.WriteByte('[')
		for i, it := range v.Items {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := it.write(buf); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case KindObject:
		buf.WriteByte('{')
		for i, m := range v.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, m.Key)
			buf.WriteByte(':')
			if err := m.Value.write(buf); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("invalid value kind %d", v.Kind)
	}
	return nil
}

// writeString encodes s as a JSON string without HTML escaping, so "<" and
// "&" in messages stay readable in committed definitions.
func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	buf.Truncate(buf.Len() - 1)
}

// isJSONNumber reports whether s is a number in JSON syntax (ParseFloat
// rejects numbers outside the float64 range that JSON still allows).
func isJSONNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && s != "" && s[0] != '"'
}

// UnmarshalJSON decodes any JSON value, keeping member order and numbers
// as json.Number.
func (v *Value) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	val, err := decodeValue(dec)
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after JSON value")
	}
	*v = val
	return nil
}

func decodeValue(dec *json.Decoder) (Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return Value{}, err
	}
	switch t := tok.(type) {
	case nil:
		return Value{}, nil
	case bool:
		return Value{Kind: KindBool, Bool: t}, nil
	case json.Number:
		return Value{Kind: KindNumber, Number: t}, nil
	case string:
		return Value{Kind: KindString, Str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			out := Value{Kind: KindArray, Items: []Value{}}
			for dec.More() {
				it, err := decodeValue(dec)
				if err != nil {
					return Value{}, err
				}
				out.Items = append(out.Items, it)
			}
			if _, err := dec.Token(); err != nil {
				return Value{}, err
			}
			return out, nil
		case '{':
			out := Value{Kind: KindObject, Fields: []Member{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return Value{}, err
				}
				key, ok := kt.(string)
				if !ok {
					return Value{}, fmt.Errorf("object key %v is not a string", kt)
				}
				val, err := decodeValue(dec)
				if err != nil {
					return Value{}, fmt.Errorf("member %q: %w", key, err)
				}
				out.Fields = append(out.Fields, Member{Key: key, Value: val})
			}
			if _, err := dec.Token(); err != nil {
				return Value{}, err
			}
			return out, nil
		}
	}
	return Value{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// JSONSchema lets invopop/jsonschema describe a Value as "any JSON value".
func (Value) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Description: "Any JSON value (payload template)."}
}

// Expr is a dynamic value: a JSONPath ("$.x"), a context object path
// ("$$.Execution.Id") or an intrinsic function call
// ("States.Format('{}', $.x)"). In Obj a member whose value is an Expr gets
// the ".$" key suffix, which is how ASL marks a value to be evaluated.
type Expr string

// Ref marks a path as dynamic: Obj("Payload", Ref("$")) gives
// {"Payload.$": "$"}.
func Ref(path string) Expr { return Expr(path) }

// Str is a string literal argument to an intrinsic function helper; it is
// quoted and escaped when the call is rendered. Plain Go strings passed to
// the helpers are treated the same way; Str exists for readability.
type Str string

// Obj builds an ordered JSON object from key, value pairs:
//
//	asl.Obj("FunctionName", "${fn}", "Payload", asl.Ref("$"))
//
// Values are converted with ValueOf; an Expr value appends ".$" to its key.
// Obj panics on an odd number of arguments, a non-string key or a value
// ValueOf cannot convert: those are mistakes in the Go source of a workflow,
// found by its first test run.
func Obj(pairs ...any) Value {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("asl.Obj: odd number of arguments (%d)", len(pairs)))
	}
	out := Value{Kind: KindObject, Fields: make([]Member, 0, len(pairs)/2)}
	for i := 0; i < len(pairs); i += 2 {
		key, ok := pairs[i].(string)
		if !ok {
			panic(fmt.Sprintf("asl.Obj: key %d is %T, not string", i/2, pairs[i]))
		}
		if e, ok := pairs[i+1].(Expr); ok {
			out.Fields = append(out.Fields, Member{Key: key + ".$", Value: Value{Kind: KindString, Str: string(e)}})
			continue
		}
		v, err := ValueOf(pairs[i+1])
		if err != nil {
			panic(fmt.Sprintf("asl.Obj: member %q: %v", key, err))
		}
		out.Fields = append(out.Fields, Member{Key: key, Value: v})
	}
	return out
}

// Arr builds a JSON array, converting each item with ValueOf. It panics on
// an item ValueOf cannot convert (see Obj).
func Arr(items ...any) Value {
	out := Value{Kind: KindArray, Items: make([]Value, 0, len(items))}
	for i, it := range items {
		v, err := ValueOf(it)
		if err != nil {
			panic(fmt.Sprintf("asl.Arr: item %d: %v", i, err))
		}
		out.Items = append(out.Items, v)
	}
	return out
}

// ValueOf converts a Go value to a Value: nil, bool, string, Str, Expr (as a
// plain string), integers, floats, json.Number, Value, *Value, []any,
// []string, []Value, map[string]any (keys sorted, for determinism) and
// anything else by a round trip through encoding/json.
func ValueOf(x any) (Value, error) {
	switch t := x.(type) {
	case nil:
		return Value{}, nil
	case Value:
		return t, nil
	case *Value:
		if t == nil {
			return Value{}, nil
		}
		return *t, nil
	case bool:
		return Value{Kind: KindBool, Bool: t}, nil
	case string:
		return Value{Kind: KindString, Str: t}, nil
	case Str:
		return Value{Kind: KindString, Str: string(t)}, nil
	case Expr:
		return Value{Kind: KindString, Str: string(t)}, nil
	case json.Number:
		if !isJSONNumber(string(t)) {
			return Value{}, fmt.Errorf("invalid number %q", t)
		}
		return Value{Kind: KindNumber, Number: t}, nil
	case int:
		return Value{Kind: KindNumber, Number: json.Number(strconv.FormatInt(int64(t), 10))}, nil
	case int64:
		return Value{Kind: KindNumber, Number: json.Number(strconv.FormatInt(t, 10))}, nil
	case int32:
		return Value{Kind: KindNumber, Number: json.Number(strconv.FormatInt(int64(t), 10))}, nil
	case uint:
		return Value{Kind: KindNumber, Number: json.Number(strconv.FormatUint(uint64(t), 10))}, nil
	case uint64:
		return Value{Kind: KindNumber, Number: json.Number(strconv.FormatUint(t, 10))}, nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return Value{}, fmt.Errorf("number %v is not representable in JSON", t)
		}
		return Value{Kind: KindNumber, Number: json.Number(strconv.FormatFloat(t, 'f', -1, 64))}, nil
	case []Value:
		return Value{Kind: KindArray, Items: append([]Value{}, t...)}, nil
	case []string:
		out := Value{Kind: KindArray, Items: make([]Value, len(t))}
		for i, s := range t {
			out.Items[i] = Value{Kind: KindString, Str: s}
		}
		return out, nil
	case []any:
		out := Value{Kind: KindArray, Items: make([]Value, len(t))}
		for i, it := range t {
			v, err := ValueOf(it)
			if err != nil {
				return Value{}, fmt.Errorf("item %d: %w", i, err)
			}
			out.Items[i] = v
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := Value{Kind: KindObject, Fields: make([]Member, len(keys))}
		for i, k := range keys {
			v, err := ValueOf(t[k])
			if err != nil {
				return Value{}, fmt.Errorf("member %q: %w", k, err)
			}
			out.Fields[i] = Member{Key: k, Value: v}
		}
		return out, nil
	}
	if rv := reflect.ValueOf(x); rv.Kind() == reflect.Func || rv.Kind() == reflect.Chan {
		return Value{}, fmt.Errorf("cannot convert %T to JSON", x)
	}
	data, err := json.Marshal(x)
	if err != nil {
		return Value{}, fmt.Errorf("convert %T to JSON: %w", x, err)
	}
	var v Value
	if err := v.UnmarshalJSON(data); err != nil {
		return Value{}, err
	}
	return v, nil
}
