package jsonpath

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
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

// cmpNumbers orders two JSON numbers exactly; integers that fit in int64 avoid big.Rat.
func cmpNumbers(a, b any) (int, bool) {
	if x, ok := a.(json.Number); ok {
		if y, ok := b.(json.Number); ok {
			if i, err := x.Int64(); err == nil {
				if j, err := y.Int64(); err == nil {
					return cmpOrdered(i, j), true
				}
			}
			if f, ok := shortFloat(x); ok {
				if g, ok := shortFloat(y); ok {
					return cmpOrdered(f, g), true
				}
			}
		}
	}
	x, ok := toRat(a)
	if !ok {
		return 0, false
	}
	y, ok := toRat(b)
	if !ok {
		return 0, false
	}
	return x.Cmp(y), true
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// shortFloat converts numbers of at most 15 significant digits, which float64 represents
// distinctly and in order, so comparing the floats is as exact as comparing the decimals.
func shortFloat(n json.Number) (float64, bool) {
	s := string(n)
	digits, leading := 0, true
	for i := 0; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			if leading && c == '0' {
				continue
			}
			leading = false
			digits++
		}
	}
	if digits > 15 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || (f != 0 && math.Abs(f) < 1e-300) {
		return 0, false
	}
	return f, true
}

// IsNumber reports whether v is a JSON number in any of the accepted representations.
func IsNumber(v any) bool {
	switch t := v.(type) {
	case json.Number:
		_, end, ok := scanNumber(string(t), 0)
		return ok && end == len(t)
	case float64:
		return !math.IsNaN(t) && !math.IsInf(t, 0)
	case float32:
		return IsNumber(float64(t))
	case int, int64, int32, uint64, uint:
		return true
	}
	return false
}

// Equal reports whether two JSON values are equal: numbers by numeric value (so 1, 1.0
// and 1e0 are equal), objects by their members, arrays element by element.
func Equal(a, b any) bool {
	if IsNumber(a) {
		c, ok := cmpNumbers(a, b)
		return ok && c == 0
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
