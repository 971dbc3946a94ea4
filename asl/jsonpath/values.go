package jsonpath

import (
	"encoding/json"
	"math"
	"math/big"
)

// toRat converts a JSON number (json.Number, or a Go numeric type) to an exact rational.
func toRat(v any) (*big.Rat, bool) {
	switch t := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(t))
		return r, ok
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(t), true
	case float32:
		return toRat(float64(t))
	case int:
		return new(big.Rat).SetInt64(int64(t)), true
	case int64:
		return new(big.Rat).SetInt64(t), true
	case int32:
		return new(big.Rat).SetInt64(int64(t)), true
	case uint64:
		return new(big.Rat).SetUint64(t), true
	case uint:
		return new(big.Rat).SetUint64(uint64(t)), true
	}
	return nil, false
}

// IsNumber reports whether v is a JSON number in any of the accepted representations.
func IsNumber(v any) bool {
	_, ok := toRat(v)
	return ok
}

// Equal reports whether two JSON values are equal: numbers by numeric value (so 1, 1.0
// and 1e0 are equal), objects by their members, arrays element by element.
func Equal(a, b any) bool {
	if x, ok := toRat(a); ok {
		y, ok := toRat(b)
		return ok && x.Cmp(y) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}
