package quality

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func s(v string) Value    { return Value{Kind: String, Str: v} }
func f(v float64) Value   { return Value{Kind: Double, Num: v} }
func f64(v float64) Value { return f(v) }
func i(v int64) Value     { return Value{Kind: Int64, Int: v} }

var null = Value{}

// run evaluates one expectation (JSON) over one column of values.
func run(t *testing.T, exp string, col Column, vals []Value) ExpectationResult {
	t.Helper()
	suite, err := ParseSuite([]byte(`{"expectation_suite_name":"t","expectations":[` + exp + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	cols := []Column{col, {Name: "other", Type: TypeString}}
	v := NewValidator(suite, cols)
	if sink := v.Sink(col.Name); sink != nil {
		for r, x := range vals {
			sink(int64(r), x)
		}
	}
	return v.Finish(Batch{Rows: int64(len(vals)), Columns: cols})[0]
}

// norm round-trips a result through JSON so expectations compare plain values.
func norm(t *testing.T, x any) any {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	num  = Column{Name: "x", Type: TypeDouble}
	str  = Column{Name: "x", Type: TypeString}
	ints = Column{Name: "x", Type: TypeInt64}
	ts   = Column{Name: "x", Type: TypeTimestamp}
)

func TestExpectations(t *testing.T) {
	tests := []struct {
		name    string
		exp     string
		col     Column
		vals    []Value
		success bool
		// want holds result fields to check (JSON values); nil skips.
		want map[string]any
		// exception, when set, must appear in exception_message.
		exception string
	}{
		// not_be_null: nulls are the unexpected values; no "missing" fields.
		{"not null passes", `{"expectation_type":"expect_column_values_to_not_be_null","kwargs":{"column":"x"}}`, num, []Value{f(1), f(2)}, true,
			map[string]any{"element_count": 2.0, "unexpected_count": 0.0, "unexpected_percent": 0.0}, ""},
		{"not null counts nulls", `{"expectation_type":"expect_column_values_to_not_be_null","kwargs":{"column":"x"}}`, num, []Value{f(1), null, null, f(4)}, false,
			map[string]any{"element_count": 4.0, "unexpected_count": 2.0, "unexpected_percent": 50.0, "partial_unexpected_list": []any{nil, nil}, "missing_count": nil}, ""},
		{"not null mostly boundary met", `{"expectation_type":"expect_column_values_to_not_be_null","kwargs":{"column":"x","mostly":0.75}}`, num, []Value{f(1), null, f(3), f(4)}, true, nil, ""},
		{"not null empty is vacuous", `{"expectation_type":"expect_column_values_to_not_be_null","kwargs":{"column":"x"}}`, num, nil, true,
			map[string]any{"element_count": 0.0, "unexpected_percent": nil}, ""},

		// between: nulls ignored, strict bounds, open bounds.
		{"between inclusive", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":10}}`, num, []Value{f(0), f(10), null}, true,
			map[string]any{"element_count": 3.0, "missing_count": 1.0, "unexpected_count": 0.0, "missing_percent": 33.33333333333333}, ""},
		{"between strict min", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":10,"strict_min":true}}`, num, []Value{f(0), f(5), f(10)}, false,
			map[string]any{"unexpected_count": 1.0, "partial_unexpected_list": []any{0.0}}, ""},
		{"between strict max", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":10,"strict_max":true}}`, num, []Value{f(0), f(5), f(10)}, false,
			map[string]any{"unexpected_count": 1.0, "partial_unexpected_list": []any{10.0}}, ""},
		{"between open max on ints", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":1,"max_value":null}}`, ints, []Value{i(1), i(1 << 40), i(0)}, false,
			map[string]any{"unexpected_count": 1.0, "partial_unexpected_list": []any{0.0}}, ""},
		{"between nulls ignored, percents over non-missing", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":1}}`, num, []Value{null, null, f(2), f(0.5)}, false,
			map[string]any{"element_count": 4.0, "missing_count": 2.0, "unexpected_count": 1.0, "unexpected_percent": 50.0, "unexpected_percent_total": 25.0, "unexpected_percent_nonmissing": 50.0}, ""},
		{"between all null is vacuous", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":1}}`, num, []Value{null, null}, true,
			map[string]any{"unexpected_percent": nil, "unexpected_percent_total": 0.0, "missing_percent": 100.0}, ""},
		{"between mostly exactly at boundary", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":1,"mostly":0.8}}`, num, []Value{f(0), f(0), f(0), f(0), f(9)}, true, nil, ""},
		{"between mostly just below boundary", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":1,"mostly":0.81}}`, num, []Value{f(0), f(0), f(0), f(0), f(9)}, false, nil, ""},
		{"between mostly ignores nulls", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":1,"mostly":0.5}}`, num, []Value{null, null, null, f(0), f(9)}, true, nil, ""},
		{"between no bounds", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x"}}`, num, []Value{f(1)}, false, nil, "cannot both be None"},
		{"between min above max", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":5,"max_value":1}}`, num, []Value{f(1)}, false, nil, "cannot be larger"},
		{"between timestamps", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":"2024-05-01","max_value":"2024-05-02T00:00:00Z","strict_max":true}}`, ts,
			[]Value{{Kind: Timestamp, Int: 1714521600000000}, {Kind: Timestamp, Int: 1714608000000000}}, false,
			map[string]any{"partial_unexpected_list": []any{"2024-05-02T00:00:00Z"}}, ""},
		{"between strings compare as text", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":"b","max_value":"d"}}`, str, []Value{s("a"), s("c"), s("e")}, false,
			map[string]any{"unexpected_count": 2.0}, ""},
		{"bad mostly", `{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":0,"mostly":1.5}}`, num, nil, false, nil, "between 0 and 1"},

		// unique: every occurrence of a repeated value is unexpected.
		{"unique", `{"expectation_type":"expect_column_values_to_be_unique","kwargs":{"column":"x"}}`, str, []Value{s("a"), s("b"), null, null}, true,
			map[string]any{"unexpected_count": 0.0, "missing_count": 2.0}, ""},
		{"unique repeats", `{"expectation_type":"expect_column_values_to_be_unique","kwargs":{"column":"x"}}`, str, []Value{s("a"), s("b"), s("a"), s("c"), s("b"), s("a")}, false,
			map[string]any{"unexpected_count": 5.0, "partial_unexpected_list": []any{"a", "b", "a", "b", "a"},
				"partial_unexpected_counts": []any{map[string]any{"value": "a", "count": 3.0}, map[string]any{"value": "b", "count": 2.0}}}, ""},

		// in set
		{"in set", `{"expectation_type":"expect_column_values_to_be_in_set","kwargs":{"column":"x","value_set":["DHL","UPS"]}}`, str, []Value{s("DHL"), s("Pigeon"), null, s("dhl"), s("Pigeon")}, false,
			map[string]any{"unexpected_count": 3.0, "partial_unexpected_counts": []any{map[string]any{"value": "Pigeon", "count": 2.0}, map[string]any{"value": "dhl", "count": 1.0}}}, ""},
		{"in set numbers", `{"expectation_type":"expect_column_values_to_be_in_set","kwargs":{"column":"x","value_set":[1,2.0,"3"]}}`, ints, []Value{i(1), i(2), i(3)}, false,
			map[string]any{"partial_unexpected_list": []any{3.0}}, ""},
		{"in set needs a list", `{"expectation_type":"expect_column_values_to_be_in_set","kwargs":{"column":"x","value_set":"DHL"}}`, str, nil, false, nil, "value_set must be a list"},

		// regex: search semantics (str.contains), numbers as text.
		{"regex search", `{"expectation_type":"expect_column_values_to_match_regex","kwargs":{"column":"x","regex":"[0-9]+"}}`, str, []Value{s("ab12"), s("abc")}, false,
			map[string]any{"partial_unexpected_list": []any{"abc"}}, ""},
		{"regex anchored", `{"expectation_type":"expect_column_values_to_match_regex","kwargs":{"column":"x","regex":"^SHP-[0-9a-f]{4}$"}}`, str, []Value{s("SHP-00af"), s("xSHP-00af"), s("SHP-00afx")}, false,
			map[string]any{"unexpected_count": 2.0}, ""},
		{"regex on floats uses python repr", `{"expectation_type":"expect_column_values_to_match_regex","kwargs":{"column":"x","regex":"^\\d+\\.0$"}}`, num, []Value{f(3)}, true, nil, ""},
		{"regex invalid", `{"expectation_type":"expect_column_values_to_match_regex","kwargs":{"column":"x","regex":"("}}`, str, nil, false, nil, "missing closing )"},
		{"not match regex", `{"expectation_type":"expect_column_values_to_not_match_regex","kwargs":{"column":"x","regex":"^test"}}`, str, []Value{s("test-1"), s("prod")}, false,
			map[string]any{"unexpected_count": 1.0}, ""},

		// strftime
		{"strftime", `{"expectation_type":"expect_column_values_to_match_strftime_format","kwargs":{"column":"x","strftime_format":"%Y-%m-%d"}}`, str,
			[]Value{s("2024-05-01"), s("2024-5-1"), s("2024-02-30"), s("2024-05-01x"), s("24-05-01"), null}, false,
			map[string]any{"unexpected_count": 3.0, "partial_unexpected_list": []any{"2024-02-30", "2024-05-01x", "24-05-01"}, "missing_count": 1.0}, ""},
		{"strftime non-string column", `{"expectation_type":"expect_column_values_to_match_strftime_format","kwargs":{"column":"x","strftime_format":"%Y"}}`, ts, nil, false, nil, "must be of type string"},
		{"strftime bad directive", `{"expectation_type":"expect_column_values_to_match_strftime_format","kwargs":{"column":"x","strftime_format":"%Q"}}`, str, nil, false, nil, "bad (or unsupported) directive"},

		// of type (aggregate over the column type)
		{"of type", `{"expectation_type":"expect_column_values_to_be_of_type","kwargs":{"column":"x","type_":"float64"}}`, num, nil, true, map[string]any{"observed_value": "double"}, ""},
		{"of type mismatch", `{"expectation_type":"expect_column_values_to_be_of_type","kwargs":{"column":"x","type_":"StringType"}}`, num, nil, false, map[string]any{"observed_value": "double"}, ""},
		{"of type unknown name", `{"expectation_type":"expect_column_values_to_be_of_type","kwargs":{"column":"x","type_":"decimal(9,2)"}}`, num, nil, false, nil, "unknown type"},
		{"in type list", `{"expectation_type":"expect_column_values_to_be_in_type_list","kwargs":{"column":"x","type_list":["int","float"]}}`, ints, nil, true, nil, ""},

		// aggregates
		{"mean", `{"expectation_type":"expect_column_mean_to_be_between","kwargs":{"column":"x","min_value":1,"max_value":3}}`, num, []Value{f(1), null, f(2), f(3)}, true, map[string]any{"observed_value": 2.0}, ""},
		{"mean strict", `{"expectation_type":"expect_column_mean_to_be_between","kwargs":{"column":"x","min_value":2,"strict_min":true}}`, num, []Value{f(1), f(3)}, false, map[string]any{"observed_value": 2.0}, ""},
		{"mean of nothing fails", `{"expectation_type":"expect_column_mean_to_be_between","kwargs":{"column":"x","min_value":0}}`, num, []Value{null}, false, map[string]any{"observed_value": nil}, ""},
		{"mean of strings", `{"expectation_type":"expect_column_mean_to_be_between","kwargs":{"column":"x","min_value":0}}`, str, nil, false, nil, "numeric column"},
		{"min", `{"expectation_type":"expect_column_min_to_be_between","kwargs":{"column":"x","min_value":0,"max_value":1}}`, ints, []Value{i(5), i(1), null}, true, map[string]any{"observed_value": 1.0}, ""},
		{"max strict", `{"expectation_type":"expect_column_max_to_be_between","kwargs":{"column":"x","max_value":5,"strict_max":true}}`, ints, []Value{i(5), i(1)}, false, map[string]any{"observed_value": 5.0}, ""},
		{"max of timestamps", `{"expectation_type":"expect_column_max_to_be_between","kwargs":{"column":"x","max_value":"2030-01-01"}}`, ts, []Value{{Kind: Timestamp, Int: 1714521600000000}}, true, map[string]any{"observed_value": "2024-05-01T00:00:00Z"}, ""},

		// table expectations
		{"row count", `{"expectation_type":"expect_table_row_count_to_be_between","kwargs":{"min_value":1,"max_value":3}}`, num, []Value{f(1), f(2)}, true, map[string]any{"observed_value": 2.0}, ""},
		{"row count empty", `{"expectation_type":"expect_table_row_count_to_be_between","kwargs":{"min_value":1}}`, num, nil, false, map[string]any{"observed_value": 0.0}, ""},
		{"row count strict", `{"expectation_type":"expect_table_row_count_to_be_between","kwargs":{"min_value":2,"strict_min":true}}`, num, []Value{f(1), f(2)}, false, nil, ""},
		{"column exists", `{"expectation_type":"expect_column_to_exist","kwargs":{"column":"other"}}`, num, nil, true, map[string]any{}, ""},
		{"column exists at index", `{"expectation_type":"expect_column_to_exist","kwargs":{"column":"other","column_index":0}}`, num, nil, false, nil, ""},
		{"column missing", `{"expectation_type":"expect_column_to_exist","kwargs":{"column":"nope"}}`, num, nil, false, nil, ""},
		{"columns match set", `{"expectation_type":"expect_table_columns_to_match_set","kwargs":{"column_set":["other","x"]}}`, num, nil, true, map[string]any{"observed_value": []any{"x", "other"}}, ""},
		{"columns match set exact", `{"expectation_type":"expect_table_columns_to_match_set","kwargs":{"column_set":["x","y"],"exact_match":true}}`, num, nil, false,
			map[string]any{"details": map[string]any{"mismatched": map[string]any{"missing": []any{"y"}, "unexpected": []any{"other"}}}}, ""},
		{"columns subset", `{"expectation_type":"expect_table_columns_to_match_set","kwargs":{"column_set":["x"],"exact_match":false}}`, num, nil, true, nil, ""},
		{"column count", `{"expectation_type":"expect_table_column_count_to_equal","kwargs":{"value":2}}`, num, nil, true, map[string]any{"observed_value": 2.0}, ""},

		// configuration problems are results, not crashes
		{"missing column", `{"expectation_type":"expect_column_values_to_not_be_null","kwargs":{"column":"nope"}}`, num, nil, false, nil, `"nope" in BatchData does not exist`},
		{"unknown type", `{"expectation_type":"expect_column_values_to_be_dateutil_parseable","kwargs":{"column":"x"}}`, num, nil, false, nil, "not supported"},
		{"row_condition is refused, not ignored", `{"expectation_type":"expect_column_values_to_not_be_null","kwargs":{"column":"x","row_condition":"other==\"a\"","condition_parser":"pandas"}}`, num, nil, false, nil, "row_condition is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.exp, tt.col, tt.vals)
			if r.Success != tt.success {
				t.Errorf("success %v, want %v; result %v exception %v", r.Success, tt.success, r.Result, r.ExceptionInfo)
			}
			if tt.exception != "" {
				if !r.ExceptionInfo.RaisedException || r.ExceptionInfo.ExceptionMessage == nil || !strings.Contains(*r.ExceptionInfo.ExceptionMessage, tt.exception) {
					t.Fatalf("exception_info %+v, want a message containing %q", r.ExceptionInfo, tt.exception)
				}
				return
			}
			if r.ExceptionInfo.RaisedException {
				t.Fatalf("unexpected exception %s", *r.ExceptionInfo.ExceptionMessage)
			}
			got := norm(t, r.Result).(map[string]any)
			for k, want := range tt.want {
				g, ok := got[k]
				if k == "missing_count" && want == nil {
					if ok {
						t.Errorf("%s present (%v), GE leaves it out", k, g)
					}
					continue
				}
				if !ok || !reflect.DeepEqual(g, want) {
					t.Errorf("%s = %#v, want %#v (result %v)", k, g, want, got)
				}
			}
		})
	}
}

// The partial list holds the first 20 unexpected values in row order; the
// counts are over that list (GE: Counter(unexpected_list).most_common(20)).
func TestPartialListBounded(t *testing.T) {
	var vals []Value
	for k := 0; k < 100; k++ {
		vals = append(vals, s(string(rune('a'+k%3))))
	}
	r := run(t, `{"expectation_type":"expect_column_values_to_be_in_set","kwargs":{"column":"x","value_set":["z"]}}`, str, vals)
	list := r.Result["partial_unexpected_list"].([]any)
	if len(list) != 20 || list[0] != "a" || list[19] != "b" {
		t.Fatalf("partial list %v", list)
	}
	if r.Result["unexpected_count"] != int64(100) {
		t.Fatalf("unexpected_count %v", r.Result["unexpected_count"])
	}
	counts := norm(t, r.Result["partial_unexpected_counts"])
	want := []any{map[string]any{"value": "a", "count": 7.0}, map[string]any{"value": "b", "count": 7.0}, map[string]any{"value": "c", "count": 6.0}}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("counts %v", counts)
	}
	// unique: first unexpected rows are found among first and later occurrences.
	vals = vals[:0]
	for k := 0; k < 60; k++ {
		vals = append(vals, s(string(rune('A'+k%30))))
	}
	r = run(t, `{"expectation_type":"expect_column_values_to_be_unique","kwargs":{"column":"x"}}`, str, vals)
	list = r.Result["partial_unexpected_list"].([]any)
	if len(list) != 20 || list[0] != "A" || list[19] != "T" || r.Result["unexpected_count"] != int64(60) {
		t.Fatalf("unique partial %v count %v", list, r.Result["unexpected_count"])
	}
}

func TestStrptime(t *testing.T) {
	tests := []struct {
		format string
		ok     []string
		bad    []string
	}{
		{"%Y-%m-%d", []string{"2024-05-01", "2024-5-1", "2024-02-29"}, []string{"2023-02-29", "2024-13-01", "2024-05-01 ", "", "2024/05/01"}},
		{"%Y-%m-%dT%H:%M:%S.%fZ", []string{"2024-05-01T12:30:59.123Z", "2024-05-01T12:30:59.1Z"}, []string{"2024-05-01T24:00:00.000Z", "2024-05-01T12:30:60.000Z", "2024-05-01T12:30:59.1234567Z"}},
		{"%Y-%m-%dT%H:%M:%S%z", []string{"2024-05-01T12:30:59+02:00", "2024-05-01T12:30:59-0500", "2024-05-01T12:30:59Z"}, []string{"2024-05-01T12:30:59+2:00", "2024-05-01T12:30:59z"}},
		{"%d %b %Y", []string{"01 May 2024", "1   may 2024", "31 DEC 1999"}, []string{"31 Feb 2024", "01 Mai 2024"}},
		{"%m/%d/%y %I:%M %p", []string{"12/31/99 11:59 PM", "1/1/00 12:00 am"}, []string{"12/31/99 13:00 PM"}},
		{"%j/%Y", []string{"366/2024", "001/2023"}, []string{"366/2023", "000/2023"}},
		{"100%% %Y", []string{"100% 2024"}, []string{"100 2024"}},
		{"%m-%d", []string{"02-28"}, []string{"02-29"}}, // 1900 is not a leap year
	}
	for _, tt := range tests {
		p, err := compileStrptime(tt.format)
		if err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		for _, v := range tt.ok {
			if !p.parses(v) {
				t.Errorf("%q with %q: rejected, Python accepts it", v, tt.format)
			}
		}
		for _, v := range tt.bad {
			if p.parses(v) {
				t.Errorf("%q with %q: accepted, Python raises ValueError", v, tt.format)
			}
		}
	}
	for _, bad := range []string{"%", "%Y-%", "%c"} {
		if _, err := compileStrptime(bad); err == nil {
			t.Errorf("format %q accepted", bad)
		}
	}
}

func FuzzStrptime(f *testing.F) {
	for _, seed := range [][2]string{{"%Y-%m-%d", "2024-05-01"}, {"%d %B %Y %z", "1 may 2024 +0100"}, {"%%%j", "%366"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, format, value string) {
		p, err := compileStrptime(format)
		if err != nil {
			return
		}
		p.parses(value) // must not panic
	})
}

func TestBuiltinSuitesParse(t *testing.T) {
	for _, typ := range []string{"shipments", "tracking_events", "invoice_lines"} {
		s, ok, err := BuiltinSuite(typ)
		if err != nil || !ok || s.Name != typ || len(s.Expectations) == 0 {
			t.Fatalf("%s: ok %v err %v suite %+v", typ, ok, err, s)
		}
		for _, e := range s.Expectations {
			if _, known := factories[e.Type]; !known {
				t.Errorf("%s: %s is not supported", typ, e.Type)
			}
		}
	}
	if _, ok, _ := BuiltinSuite("parcels"); ok {
		t.Fatal("suite for an unknown type")
	}
	for _, bad := range []string{`{}`, `{"expectation_suite_name":"x","expectations":[{}]}`, `{"expectation_suite_name":"x"} {}`, `[`} {
		if _, err := ParseSuite([]byte(bad)); err == nil {
			t.Errorf("suite %s accepted", bad)
		}
	}
}

// Suites can come from the silver bucket (ge/suites/), so any bytes must
// give a parse error or a validator whose results never panic.
func FuzzSuite(f *testing.F) {
	for _, typ := range []string{"shipments", "tracking_events", "invoice_lines"} {
		b, _ := builtin.ReadFile("suites/" + typ + ".json")
		f.Add(b)
	}
	f.Add([]byte(`{"expectation_suite_name":"x","expectations":[{"expectation_type":"expect_column_values_to_be_between","kwargs":{"column":"x","min_value":"a","max_value":[1],"mostly":"1"}}]}`))
	f.Add([]byte(`{"expectation_suite_name":"x","expectations":[{"expectation_type":"expect_column_to_exist","kwargs":{"column":"x","column_index":-1}},{"expectation_type":"expect_column_values_to_match_strftime_format","kwargs":{"column":"s","strftime_format":"%Y%"}}]}`))
	cols := []Column{{Name: "x", Type: TypeDouble}, {Name: "s", Type: TypeString}, {Name: "n", Type: TypeInt64}, {Name: "t", Type: TypeTimestamp}}
	vals := map[string][]Value{
		"x": {f64(1.5), null, f64(-3)},
		"s": {s("2024-05-01"), s(""), null},
		"n": {i(7), i(-1), null},
		"t": {{Kind: Timestamp, Int: 1714521600000000}, null, {Kind: Timestamp, Int: 0}},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		suite, err := ParseSuite(b)
		if err != nil {
			return
		}
		v := NewValidator(suite, cols)
		for _, c := range cols {
			if sink := v.Sink(c.Name); sink != nil {
				for r, x := range vals[c.Name] {
					sink(int64(r), x)
				}
			}
		}
		res := v.Finish(Batch{Rows: 3, Columns: cols})
		if len(res) != len(suite.Expectations) {
			t.Fatalf("%d results for %d expectations", len(res), len(suite.Expectations))
		}
		if _, err := EncodeJSON(Summarise(suite, res, "r", time.Unix(0, 0), BatchSpec{}, "fuzz")); err != nil {
			t.Fatal(err)
		}
	})
}

// result_format levels (GE standard argument): BOOLEAN_ONLY drops the
// result, BASIC drops the counts, partial_unexpected_count bounds the list;
// COMPLETE is served as SUMMARY with a note; anything else is an exception.
func TestResultFormat(t *testing.T) {
	vals := []Value{s("a"), s("b"), s("b"), s("c")}
	exp := func(rf string) string {
		return `{"expectation_type":"expect_column_values_to_be_in_set","kwargs":{"column":"x","value_set":["z"],"result_format":` + rf + `}}`
	}
	r := run(t, exp(`"BOOLEAN_ONLY"`), str, vals)
	if r.Success || len(r.Result) != 0 {
		t.Fatalf("BOOLEAN_ONLY: %v", r.Result)
	}
	r = run(t, exp(`"BASIC"`), str, vals)
	if _, ok := r.Result["partial_unexpected_counts"]; ok || r.Result["unexpected_count"] != int64(4) {
		t.Fatalf("BASIC: %v", r.Result)
	}
	r = run(t, exp(`{"result_format":"SUMMARY","partial_unexpected_count":2}`), str, vals)
	if got := norm(t, r.Result["partial_unexpected_list"]); !reflect.DeepEqual(got, []any{"a", "b"}) || r.Result["unexpected_count"] != int64(4) {
		t.Fatalf("partial_unexpected_count 2: %v", r.Result)
	}
	r = run(t, `{"expectation_type":"expect_column_values_to_be_unique","kwargs":{"column":"x","result_format":{"result_format":"SUMMARY","partial_unexpected_count":1}}}`, str, vals)
	if got := norm(t, r.Result["partial_unexpected_list"]); !reflect.DeepEqual(got, []any{"b"}) {
		t.Fatalf("unique with partial_unexpected_count 1: %v", r.Result)
	}
	r = run(t, exp(`"COMPLETE"`), str, vals)
	if r.Meta["result_format_note"] == nil || len(r.Result["partial_unexpected_list"].([]any)) != 4 {
		t.Fatalf("COMPLETE: %v %v", r.Result, r.Meta)
	}
	for _, bad := range []string{`"VERBOSE"`, `7`, `{"partial_unexpected_count":-1}`} {
		r = run(t, exp(bad), str, vals)
		if r.Success || !r.ExceptionInfo.RaisedException {
			t.Fatalf("result_format %s accepted: %+v", bad, r)
		}
	}
}

func TestValueText(t *testing.T) {
	for _, tt := range []struct {
		v    Value
		want string
	}{
		{f(3), "3.0"}, {f(2.5), "2.5"}, {f(1e16), "1e+16"}, {f(1e15), "1000000000000000.0"}, {f(0.0001), "0.0001"}, {f(0.00001), "1e-05"}, {f(-0.5), "-0.5"}, {f(123456789.125), "123456789.125"}, {i(-7), "-7"}, {s("x"), "x"}, {null, "None"},
		{Value{Kind: Timestamp, Int: 1714521600000000}, "2024-05-01 00:00:00"},
		{Value{Kind: Timestamp, Int: 1714521600500000}, "2024-05-01 00:00:00.500000"},
	} {
		if got := tt.v.Text(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.v, got, tt.want)
		}
	}
}
