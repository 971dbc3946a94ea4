package quality

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ColumnType is a column's type as the evaluator sees it (from the Parquet
// schema of the silver files).
type ColumnType string

const (
	TypeString    ColumnType = "string"
	TypeDouble    ColumnType = "double"
	TypeInt64     ColumnType = "int64"
	TypeTimestamp ColumnType = "timestamp"
	TypeOther     ColumnType = "other"
)

// Column is one column of the batch.
type Column struct {
	Name string     `json:"name"`
	Type ColumnType `json:"type"`
}

// Kind says which field of a Value holds it.
type Kind uint8

const (
	Null Kind = iota
	String
	Double
	Int64
	// Timestamp is microseconds since the Unix epoch, UTC (in Int).
	Timestamp
)

// Value is one cell. Strings are copied out of the Parquet page before
// they are kept (partial lists, unique sets), never referenced.
type Value struct {
	Kind Kind
	Str  string
	Num  float64
	Int  int64
}

// JSON renders a value the way GE serialises it in a result: strings and
// numbers as themselves, timestamps as ISO 8601 text, nulls as null.
func (v Value) JSON() any {
	switch v.Kind {
	case String:
		return v.Str
	case Double:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return strconv.FormatFloat(v.Num, 'g', -1, 64) // JSON has no NaN; GE writes them as strings too
		}
		return v.Num
	case Int64:
		return json.Number(strconv.FormatInt(v.Int, 10))
	case Timestamp:
		return time.UnixMicro(v.Int).UTC().Format("2006-01-02T15:04:05.999999Z")
	}
	return nil
}

// Text is the value as Python's str() would print it (regex expectations
// match against column.astype(str)).
func (v Value) Text() string {
	switch v.Kind {
	case String:
		return v.Str
	case Double:
		return pyFloat(v.Num)
	case Int64:
		return strconv.FormatInt(v.Int, 10)
	case Timestamp:
		// str(datetime): six fraction digits when there is a fraction.
		t := time.UnixMicro(v.Int).UTC()
		if t.Nanosecond() == 0 {
			return t.Format("2006-01-02 15:04:05")
		}
		return t.Format("2006-01-02 15:04:05.000000")
	}
	return "None"
}

// pyFloat formats like Python's repr of a float: the shortest digits that
// round-trip, positional for decimal exponents in [-4, 16) with at least
// one fraction digit ("1.0", "2.5", "1000000000000000.0"), scientific
// otherwise ("1e+16", "1e-05").
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// number returns a numeric value as float64.
func (v Value) number() (float64, bool) {
	switch v.Kind {
	case Double:
		return v.Num, true
	case Int64:
		return float64(v.Int), true
	}
	return 0, false
}

// compareValues orders values of one column (GE sorts
// partial_unexpected_counts by count, then value).
func compareValues(a, b Value) int {
	if a.Kind != b.Kind {
		return cmp.Compare(a.Kind, b.Kind)
	}
	switch a.Kind {
	case String:
		return strings.Compare(a.Str, b.Str)
	case Double:
		return cmp.Compare(a.Num, b.Num)
	case Int64, Timestamp:
		return cmp.Compare(a.Int, b.Int)
	}
	return 0
}

// bound is a min_value/max_value kwarg made comparable with a column's
// values.
type bound struct {
	set bool
	v   Value
}

// parseBound converts a kwarg (json.Number, string or nil) for a column of
// type ct: numbers for numeric columns, timestamps (RFC 3339 or a date) for
// timestamp columns, strings for string columns (compared as text, as
// pandas does).
func parseBound(name string, raw any, ct ColumnType) (bound, error) {
	if raw == nil {
		return bound{}, nil
	}
	switch ct {
	case TypeDouble, TypeInt64:
		n, ok := raw.(json.Number)
		if !ok {
			return bound{}, fmt.Errorf("%s must be a number for a %s column, got %T", name, ct, raw)
		}
		f, err := n.Float64()
		if err != nil {
			return bound{}, fmt.Errorf("%s: %w", name, err)
		}
		return bound{set: true, v: Value{Kind: Double, Num: f}}, nil
	case TypeTimestamp:
		s, ok := raw.(string)
		if !ok {
			return bound{}, fmt.Errorf("%s must be a timestamp string for a timestamp column, got %T", name, raw)
		}
		t, err := parseTimeBound(s)
		if err != nil {
			return bound{}, fmt.Errorf("%s: %w", name, err)
		}
		return bound{set: true, v: Value{Kind: Timestamp, Int: t.UnixMicro()}}, nil
	case TypeString:
		s, ok := raw.(string)
		if !ok {
			return bound{}, fmt.Errorf("%s must be a string for a string column, got %T", name, raw)
		}
		return bound{set: true, v: Value{Kind: String, Str: s}}, nil
	}
	return bound{}, fmt.Errorf("%s: a %s column has no order", name, ct)
}

func parseTimeBound(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp or a date", s)
}

// order compares a column value with a bound of the same domain.
func order(v Value, b Value) int {
	if b.Kind == Double {
		f, _ := v.number()
		return cmp.Compare(f, b.Num)
	}
	return compareValues(v, b)
}

// within applies GE's between rule: a missing bound is open; strict
// bounds exclude equality.
func within(v Value, lo, hi bound, strictMin, strictMax bool) bool {
	if lo.set {
		c := order(v, lo.v)
		if c < 0 || (strictMin && c == 0) {
			return false
		}
	}
	if hi.set {
		c := order(v, hi.v)
		if c > 0 || (strictMax && c == 0) {
			return false
		}
	}
	return true
}
