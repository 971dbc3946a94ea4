package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
)

// The evaluator follows Great Expectations' semantics (GE 0.15-0.18, the
// V3 API), checked against its source:
//   - map expectations ("column values ..."): nulls are not tested (they are
//     "missing") except by expect_column_values_to_not_be_null; success is
//     vacuously true when no value was tested, else
//     (tested - unexpected) / tested >= mostly (mostly defaults to 1).
//     great_expectations/expectations/expectation.py: ColumnMapExpectation._validate,
//     _mostly_success, _format_map_output. Versions differ at the edges and
//     this follows 0.17/0.18: expect_column_values_to_not_be_null on an empty
//     table is vacuously true (GE 1.x fails it; the built-in suites also
//     require at least one row), and mostly=0 passes whatever the values
//     (one 0.15 release nudged it to the next float above 0).
//   - the result of a map expectation carries element_count, missing_count,
//     missing_percent, unexpected_count, unexpected_percent (= over the
//     non-missing values), unexpected_percent_total, unexpected_percent_nonmissing,
//     partial_unexpected_list (first 20, in row order) and
//     partial_unexpected_counts (most common of that list, sorted by count
//     then value). expect_column_values_to_not_be_null has no "missing", so
//     GE leaves the missing fields out (nonnull_count=None in _format_map_output).
//     Result format reference: https://docs.greatexpectations.io/docs/reference/expectations/result_format
//   - aggregate expectations (mean, min, max, row count) report
//     observed_value; an observed value of None (no non-null values) fails
//     (ColumnAggregateExpectation._validate_metric_value_between).
//   - a bad configuration, a missing column or an unknown expectation type
//     does not stop the run: that expectation's result has success false and
//     exception_info.raised_exception true (catch_exceptions, on by default in
//     validation: https://docs.greatexpectations.io/docs/reference/expectations/standard_arguments/).

// partialCount is GE's default partial_unexpected_count (SUMMARY format).
const partialCount = 20

// ExceptionInfo is GE's exception_info of an expectation result.
type ExceptionInfo struct {
	RaisedException    bool    `json:"raised_exception"`
	ExceptionMessage   *string `json:"exception_message"`
	ExceptionTraceback *string `json:"exception_traceback"`
}

// ExpectationResult is one ExpectationValidationResult.
type ExpectationResult struct {
	Success           bool           `json:"success"`
	ExpectationConfig Expectation    `json:"expectation_config"`
	Result            map[string]any `json:"result"`
	Meta              map[string]any `json:"meta"`
	ExceptionInfo     ExceptionInfo  `json:"exception_info"`
}

// Batch describes the data the suite ran on, for table-level expectations.
type Batch struct {
	Rows    int64
	Columns []Column
}

// checker evaluates one expectation over a stream of column values.
type checker interface {
	// column is the column whose values it needs ("" for none).
	column() string
	observe(row int64, v Value)
	finish(b Batch) (success bool, result map[string]any)
}

// Validator runs a suite over a batch streamed one column value at a time:
// call Sink per column, feed every row's value of that column in row order,
// then Finish. Memory is bounded except where an expectation needs more
// (unique keeps one entry per distinct value).
type Validator struct {
	suite  Suite
	checks []checker
	errs   []error // per expectation: a configuration problem, or nil
	byCol  map[string][]checker
}

// NewValidator prepares suite for a batch with these columns.
func NewValidator(suite Suite, columns []Column) *Validator {
	cols := make(map[string]Column, len(columns))
	for _, c := range columns {
		cols[c.Name] = c
	}
	v := &Validator{suite: suite, byCol: map[string][]checker{}}
	for _, e := range suite.Expectations {
		c, err := newChecker(e, cols)
		if err == nil {
			var rf resultFormat
			if rf, err = resultFormatArg(e); err == nil {
				if pl, ok := c.(interface{ setPartial(int) }); ok {
					pl.setPartial(min(rf.count, partialCount))
				}
			}
		}
		v.checks = append(v.checks, c)
		v.errs = append(v.errs, err)
		if err == nil && c.column() != "" {
			v.byCol[c.column()] = append(v.byCol[c.column()], c)
		}
	}
	return v
}

// Sink returns the function taking column name's values, or nil when no
// expectation needs that column.
func (v *Validator) Sink(name string) func(row int64, val Value) {
	cs := v.byCol[name]
	switch len(cs) {
	case 0:
		return nil
	case 1:
		return cs[0].observe
	}
	return func(row int64, val Value) {
		for _, c := range cs {
			c.observe(row, val)
		}
	}
}

// Finish returns one result per expectation, in suite order.
func (v *Validator) Finish(b Batch) []ExpectationResult {
	out := make([]ExpectationResult, len(v.checks))
	for i, e := range v.suite.Expectations {
		r := ExpectationResult{ExpectationConfig: e, Meta: map[string]any{}, Result: map[string]any{}}
		if err := v.errs[i]; err != nil {
			msg := err.Error()
			r.ExceptionInfo = ExceptionInfo{RaisedException: true, ExceptionMessage: &msg}
		} else {
			r.Success, r.Result = v.checks[i].finish(b)
			rf, _ := resultFormatArg(e)
			rf.apply(&r)
		}
		out[i] = r
	}
	return out
}

// resultFormat is an expectation's result_format kwarg (GE: a level name,
// or {"result_format": level, "partial_unexpected_count": n}).
// https://docs.greatexpectations.io/docs/reference/expectations/result_format
type resultFormat struct {
	level string
	count int
}

func resultFormatArg(e Expectation) (resultFormat, error) {
	rf := resultFormat{level: "SUMMARY", count: partialCount}
	switch x := e.Kwargs["result_format"].(type) {
	case nil:
		return rf, nil
	case string:
		rf.level = x
	case map[string]any:
		if l, ok := x["result_format"].(string); ok {
			rf.level = l
		}
		if raw, ok := x["partial_unexpected_count"]; ok {
			n, isNum := raw.(json.Number)
			c, err := n.Int64()
			if !isNum || err != nil || c < 0 {
				return rf, fmt.Errorf("%s: result_format.partial_unexpected_count must be a non-negative integer", e.Type)
			}
			rf.count = int(c)
		}
	default:
		return rf, fmt.Errorf("%s: result_format must be a string or an object", e.Type)
	}
	switch rf.level {
	case "BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE":
		return rf, nil
	}
	return rf, fmt.Errorf("%s: unknown result_format %q (BOOLEAN_ONLY, BASIC, SUMMARY, COMPLETE)", e.Type, rf.level)
}

// apply trims a SUMMARY result to the requested level. The evaluator keeps
// at most 20 unexpected values (bounded memory), so COMPLETE, which asks for
// all of them, is served as SUMMARY and says so in the result's meta, and a
// partial_unexpected_count above 20 is capped (the checkers apply it).
func (rf resultFormat) apply(r *ExpectationResult) {
	switch rf.level {
	case "BOOLEAN_ONLY":
		r.Result = map[string]any{}
		return
	case "BASIC":
		delete(r.Result, "partial_unexpected_counts")
	case "COMPLETE":
		r.Meta["result_format_note"] = "COMPLETE served as SUMMARY: the evaluator keeps the first 20 unexpected values only"
	}
}

type factory func(e Expectation, cols map[string]Column) (checker, error)

// factories is the table of supported expectation types.
var factories = map[string]factory{
	"expect_column_values_to_not_be_null":           newNotNull,
	"expect_column_values_to_be_between":            newValuesBetween,
	"expect_column_values_to_be_unique":             newUnique,
	"expect_column_values_to_be_in_set":             newInSet,
	"expect_column_values_to_match_regex":           newRegex,
	"expect_column_values_to_match_strftime_format": newStrftime,
	"expect_column_values_to_be_of_type":            newOfType,
	"expect_table_row_count_to_be_between":          newRowCount,
	"expect_column_to_exist":                        newColumnExists,
	"expect_table_columns_to_match_set":             newColumnsMatchSet,
	"expect_column_mean_to_be_between":              newAggregate(aggMean),
	"expect_column_min_to_be_between":               newAggregate(aggMin),
	"expect_column_max_to_be_between":               newAggregate(aggMax),
	"expect_table_column_count_to_equal":            newColumnCountEqual,
	"expect_column_values_to_not_match_regex":       newNotRegex,
	"expect_column_values_to_be_in_type_list":       newInTypeList,
}

// SupportedTypes lists the expectation types the evaluator implements.
func SupportedTypes() []string {
	var names []string
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// unsupportedKwargs change which rows or values an expectation sees;
// ignoring them would silently give another verdict than GE's, so an
// expectation using one reports an exception instead.
var unsupportedKwargs = []string{"row_condition", "condition_parser", "parse_strings_as_datetimes", "output_strftime_format", "ignore_row_if"}

func newChecker(e Expectation, cols map[string]Column) (checker, error) {
	f := factories[e.Type]
	if f == nil {
		return nil, fmt.Errorf("expectation type %s is not supported by this evaluator (supported: %v)", e.Type, SupportedTypes())
	}
	for _, k := range unsupportedKwargs {
		if v, ok := e.Kwargs[k]; ok && v != nil && v != false {
			return nil, fmt.Errorf("%s: kwarg %s is not supported by this evaluator", e.Type, k)
		}
	}
	return f(e, cols)
}

// --- kwargs helpers ---

func columnArg(e Expectation, cols map[string]Column) (Column, error) {
	name, ok := e.Kwargs["column"].(string)
	if !ok || name == "" {
		return Column{}, fmt.Errorf("%s: kwargs.column must be a non-empty string", e.Type)
	}
	c, ok := cols[name]
	if !ok {
		// GE: MetricResolutionError 'The column "x" in BatchData does not exist.'
		return Column{}, fmt.Errorf("the column %q in BatchData does not exist", name)
	}
	return c, nil
}

func boolArg(e Expectation, name string, def bool) (bool, error) {
	raw, ok := e.Kwargs[name]
	if !ok || raw == nil {
		return def, nil
	}
	b, ok := raw.(bool)
	if !ok {
		return false, fmt.Errorf("%s: kwargs.%s must be a boolean", e.Type, name)
	}
	return b, nil
}

// mostlyArg reads mostly (default 1), which GE requires to be in [0, 1].
func mostlyArg(e Expectation) (float64, error) {
	raw, ok := e.Kwargs["mostly"]
	if !ok || raw == nil {
		return 1, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: mostly must be a number", e.Type)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
		return 0, fmt.Errorf("%s: mostly must be a number between 0 and 1, got %s", e.Type, n)
	}
	return f, nil
}

// --- map expectations ---

type mapCheck struct {
	col    string
	mostly float64
	// withNulls: the test sees nulls too and there is no "missing" (not_be_null).
	withNulls bool
	test      func(Value) bool

	elements, nonnull, unexpected int64
	partial                       []Value
	limit                         int // partial list length (result_format)
}

func (m *mapCheck) column() string { return m.col }

func (m *mapCheck) setPartial(n int) { m.limit = n }

func (m *mapCheck) observe(_ int64, v Value) {
	m.elements++
	if v.Kind != Null {
		m.nonnull++
	} else if !m.withNulls {
		return
	}
	if !m.test(v) {
		m.unexpected++
		if len(m.partial) < m.limit {
			m.partial = append(m.partial, v)
		}
	}
}

func (m *mapCheck) finish(Batch) (bool, map[string]any) {
	considered := m.nonnull
	if m.withNulls {
		considered = m.elements
	}
	return mostlySuccess(considered, m.unexpected, m.mostly), mapResult(m.elements, m.nonnull, m.unexpected, m.partial, !m.withNulls)
}

// mostlySuccess is GE's rule: vacuously true with nothing considered, else
// the share of expected values must reach mostly.
func mostlySuccess(considered, unexpected int64, mostly float64) bool {
	if considered == 0 {
		return true
	}
	return float64(considered-unexpected)/float64(considered) >= mostly
}

// mapResult is _format_map_output in SUMMARY format.
func mapResult(elements, nonnull, unexpected int64, partial []Value, withMissing bool) map[string]any {
	var pctTotal, pctNonmissing, pctMissing any // null when undefined, as GE writes None
	missing := elements - nonnull
	if elements > 0 {
		pctTotal = float64(unexpected) / float64(elements) * 100
		pctMissing = float64(missing) / float64(elements) * 100
		if !withMissing {
			pctNonmissing = pctTotal
		} else if nonnull > 0 {
			pctNonmissing = float64(unexpected) / float64(nonnull) * 100
		}
	}
	list := make([]any, len(partial))
	for i, v := range partial {
		list[i] = v.JSON()
	}
	r := map[string]any{
		"element_count":             elements,
		"unexpected_count":          unexpected,
		"unexpected_percent":        pctNonmissing,
		"partial_unexpected_list":   list,
		"partial_unexpected_counts": partialCounts(partial),
	}
	if withMissing {
		r["missing_count"] = missing
		r["missing_percent"] = pctMissing
		r["unexpected_percent_total"] = pctTotal
		r["unexpected_percent_nonmissing"] = pctNonmissing
	}
	return r
}

// partialCounts is Counter(partial).most_common(20) sorted by (-count, value).
func partialCounts(partial []Value) []any {
	type vc struct {
		v Value
		n int
	}
	var counts []vc
	idx := map[Value]int{}
	for _, v := range partial {
		if i, ok := idx[v]; ok {
			counts[i].n++
			continue
		}
		idx[v] = len(counts)
		counts = append(counts, vc{v, 1})
	}
	sort.SliceStable(counts, func(i, j int) bool {
		if counts[i].n != counts[j].n {
			return counts[i].n > counts[j].n
		}
		return compareValues(counts[i].v, counts[j].v) < 0
	})
	out := make([]any, len(counts))
	for i, c := range counts {
		out[i] = map[string]any{"value": c.v.JSON(), "count": c.n}
	}
	return out
}

func newMap(e Expectation, cols map[string]Column, test func(Column) (func(Value) bool, error)) (checker, error) {
	c, err := columnArg(e, cols)
	if err != nil {
		return nil, err
	}
	mostly, err := mostlyArg(e)
	if err != nil {
		return nil, err
	}
	t, err := test(c)
	if err != nil {
		return nil, err
	}
	return &mapCheck{col: c.Name, mostly: mostly, test: t, limit: partialCount}, nil
}

func newNotNull(e Expectation, cols map[string]Column) (checker, error) {
	c, err := columnArg(e, cols)
	if err != nil {
		return nil, err
	}
	mostly, err := mostlyArg(e)
	if err != nil {
		return nil, err
	}
	return &mapCheck{col: c.Name, mostly: mostly, withNulls: true, test: func(v Value) bool { return v.Kind != Null }, limit: partialCount}, nil
}

// betweenArgs reads min_value, max_value, strict_min, strict_max.
func betweenArgs(e Expectation, ct ColumnType) (lo, hi bound, strictMin, strictMax bool, err error) {
	if lo, err = parseBound("min_value", e.Kwargs["min_value"], ct); err != nil {
		return
	}
	if hi, err = parseBound("max_value", e.Kwargs["max_value"], ct); err != nil {
		return
	}
	if strictMin, err = boolArg(e, "strict_min", false); err != nil {
		return
	}
	if strictMax, err = boolArg(e, "strict_max", false); err != nil {
		return
	}
	if lo.set && hi.set && order(lo.v, hi.v) > 0 {
		err = fmt.Errorf("%s: minimum threshold cannot be larger than maximum threshold", e.Type)
	}
	return
}

func newValuesBetween(e Expectation, cols map[string]Column) (checker, error) {
	return newMap(e, cols, func(c Column) (func(Value) bool, error) {
		lo, hi, smin, smax, err := betweenArgs(e, c.Type)
		if err != nil {
			return nil, err
		}
		if !lo.set && !hi.set {
			// GE: "min_value and max_value cannot both be None"
			return nil, fmt.Errorf("%s: min_value and max_value cannot both be None", e.Type)
		}
		return func(v Value) bool { return within(v, lo, hi, smin, smax) }, nil
	})
}

func newInSet(e Expectation, cols map[string]Column) (checker, error) {
	return newMap(e, cols, func(c Column) (func(Value) bool, error) {
		raw, ok := e.Kwargs["value_set"].([]any)
		if !ok {
			return nil, fmt.Errorf("%s: kwargs.value_set must be a list", e.Type)
		}
		set := map[Value]bool{}
		for _, x := range raw {
			if v, ok := setMember(x, c.Type); ok {
				set[v] = true
			}
		}
		return func(v Value) bool {
			if v.Kind == Int64 { // compare numbers by value: 3 == 3.0
				return set[Value{Kind: Double, Num: float64(v.Int)}]
			}
			return set[v]
		}, nil
	})
}

// setMember converts a value_set element to a column value; elements of
// another type can never match (as in pandas' isin).
func setMember(x any, ct ColumnType) (Value, bool) {
	switch ct {
	case TypeString:
		s, ok := x.(string)
		return Value{Kind: String, Str: s}, ok
	case TypeDouble, TypeInt64:
		n, ok := x.(json.Number)
		if !ok {
			return Value{}, false
		}
		f, err := n.Float64()
		return Value{Kind: Double, Num: f}, err == nil
	case TypeTimestamp:
		s, ok := x.(string)
		if !ok {
			return Value{}, false
		}
		t, err := parseTimeBound(s)
		return Value{Kind: Timestamp, Int: t.UnixMicro()}, err == nil
	}
	return Value{}, false
}

func regexArg(e Expectation) (*regexp.Regexp, error) {
	s, ok := e.Kwargs["regex"].(string)
	if !ok {
		return nil, fmt.Errorf("%s: kwargs.regex must be a string", e.Type)
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Type, err)
	}
	return re, nil
}

// newRegex: GE's pandas metric is column.astype(str).str.contains(regex), a
// search anywhere in the value (anchor with ^...$ for a full match). Go's
// RE2 syntax is a subset of Python's re (no look-around, no backreferences).
func newRegex(e Expectation, cols map[string]Column) (checker, error) {
	return newMap(e, cols, func(Column) (func(Value) bool, error) {
		re, err := regexArg(e)
		if err != nil {
			return nil, err
		}
		return func(v Value) bool { return re.MatchString(v.Text()) }, nil
	})
}

func newNotRegex(e Expectation, cols map[string]Column) (checker, error) {
	return newMap(e, cols, func(Column) (func(Value) bool, error) {
		re, err := regexArg(e)
		if err != nil {
			return nil, err
		}
		return func(v Value) bool { return !re.MatchString(v.Text()) }, nil
	})
}

// newStrftime checks each value with Python's datetime.strptime rules
// (see strptime.go). GE raises a TypeError for non-string values, so a
// column that is not a string column is a configuration error here.
func newStrftime(e Expectation, cols map[string]Column) (checker, error) {
	return newMap(e, cols, func(c Column) (func(Value) bool, error) {
		f, ok := e.Kwargs["strftime_format"].(string)
		if !ok {
			return nil, fmt.Errorf("%s: kwargs.strftime_format must be a string", e.Type)
		}
		if c.Type != TypeString {
			return nil, fmt.Errorf("values passed to expect_column_values_to_match_strftime_format must be of type string; column %q is %s", c.Name, c.Type)
		}
		p, err := compileStrptime(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Type, err)
		}
		return func(v Value) bool { return p.parses(v.Str) }, nil
	})
}

// --- unique ---

type uniqEntry struct {
	first int64
	n     int64
}

// uniqueCheck: GE marks every occurrence of a repeated value unexpected
// (pandas: ~column.duplicated(keep=False)). It keeps one entry per distinct
// value (strings, the usual id columns, in a map keyed by the string alone:
// about half the memory of a map keyed by Value); the rows of repeats are
// kept only up to the partial list's length.
type uniqueCheck struct {
	col      string
	mostly   float64
	elements int64
	nonnull  int64
	strs     map[string]uniqEntry
	vals     map[Value]uniqEntry
	repeats  []rowValue // later occurrences, first limit by row
	limit    int
}

func (u *uniqueCheck) setPartial(n int) { u.limit = n }

type rowValue struct {
	row int64
	v   Value
}

func newUnique(e Expectation, cols map[string]Column) (checker, error) {
	c, err := columnArg(e, cols)
	if err != nil {
		return nil, err
	}
	mostly, err := mostlyArg(e)
	if err != nil {
		return nil, err
	}
	return &uniqueCheck{col: c.Name, mostly: mostly, strs: map[string]uniqEntry{}, vals: map[Value]uniqEntry{}, limit: partialCount}, nil
}

func (u *uniqueCheck) column() string { return u.col }

func (u *uniqueCheck) observe(row int64, v Value) {
	u.elements++
	if v.Kind == Null {
		return
	}
	u.nonnull++
	var e uniqEntry
	var seen bool
	if v.Kind == String {
		e, seen = u.strs[v.Str]
	} else {
		e, seen = u.vals[v]
	}
	if !seen {
		e.first = row
	} else if len(u.repeats) < u.limit {
		u.repeats = append(u.repeats, rowValue{row, v})
	}
	e.n++
	if v.Kind == String {
		u.strs[v.Str] = e
	} else {
		u.vals[v] = e
	}
}

func (u *uniqueCheck) finish(Batch) (bool, map[string]any) {
	var unexpected int64
	rows := slices.Clone(u.repeats)
	for k, e := range u.strs {
		if e.n > 1 {
			unexpected += e.n
			rows = append(rows, rowValue{e.first, Value{Kind: String, Str: k}})
		}
	}
	for v, e := range u.vals {
		if e.n > 1 {
			unexpected += e.n
			rows = append(rows, rowValue{e.first, v})
		}
	}
	// The first occurrences of repeated values plus the first later
	// occurrences hold the first partialCount unexpected rows.
	sort.Slice(rows, func(i, j int) bool { return rows[i].row < rows[j].row })
	var partial []Value
	for _, rv := range rows {
		if len(partial) == u.limit {
			break
		}
		partial = append(partial, rv.v)
	}
	return mostlySuccess(u.nonnull, unexpected, u.mostly), mapResult(u.elements, u.nonnull, unexpected, partial, true)
}

// --- aggregate and table expectations ---

type tableCheck struct {
	col string
	fn  func(b Batch) (bool, map[string]any)
}

func (t *tableCheck) column() string                        { return t.col }
func (t *tableCheck) observe(int64, Value)                  {}
func (t *tableCheck) finish(b Batch) (bool, map[string]any) { return t.fn(b) }

// typeAliases maps the type names suites use (pandas/numpy, Spark, SQL,
// Parquet/Arrow) to the evaluator's column types.
var typeAliases = map[string]ColumnType{
	"string": TypeString, "str": TypeString, "object": TypeString, "StringType": TypeString, "VARCHAR": TypeString, "TEXT": TypeString, "BYTE_ARRAY": TypeString, "utf8": TypeString, "large_string": TypeString,
	"double": TypeDouble, "float": TypeDouble, "float64": TypeDouble, "DoubleType": TypeDouble, "DOUBLE": TypeDouble, "FLOAT": TypeDouble, "DOUBLE PRECISION": TypeDouble,
	"int64": TypeInt64, "int": TypeInt64, "Int64": TypeInt64, "LongType": TypeInt64, "BIGINT": TypeInt64, "INT64": TypeInt64, "INTEGER": TypeInt64, "long": TypeInt64,
	"timestamp": TypeTimestamp, "datetime64": TypeTimestamp, "datetime64[ns]": TypeTimestamp, "datetime64[us, UTC]": TypeTimestamp, "datetime64[ns, UTC]": TypeTimestamp, "TimestampType": TypeTimestamp, "TIMESTAMP": TypeTimestamp, "datetime": TypeTimestamp,
}

func typeArg(e Expectation, s any) (ColumnType, error) {
	name, ok := s.(string)
	if !ok {
		return "", fmt.Errorf("%s: type names must be strings", e.Type)
	}
	t, ok := typeAliases[name]
	if !ok {
		return "", fmt.Errorf("%s: unknown type %q", e.Type, name)
	}
	return t, nil
}

// newOfType is an aggregate over the column's declared type, as GE does for
// typed (non-object) columns: observed_value is the column's type name.
func newOfType(e Expectation, cols map[string]Column) (checker, error) {
	c, err := columnArg(e, cols)
	if err != nil {
		return nil, err
	}
	want, err := typeArg(e, e.Kwargs["type_"])
	if err != nil {
		return nil, err
	}
	return &tableCheck{fn: func(Batch) (bool, map[string]any) {
		return c.Type == want, map[string]any{"observed_value": string(c.Type)}
	}}, nil
}

func newInTypeList(e Expectation, cols map[string]Column) (checker, error) {
	c, err := columnArg(e, cols)
	if err != nil {
		return nil, err
	}
	list, ok := e.Kwargs["type_list"].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: kwargs.type_list must be a list", e.Type)
	}
	ok = false
	for _, x := range list {
		t, err := typeArg(e, x)
		if err != nil {
			return nil, err
		}
		ok = ok || t == c.Type
	}
	return &tableCheck{fn: func(Batch) (bool, map[string]any) {
		return ok, map[string]any{"observed_value": string(c.Type)}
	}}, nil
}

// intBound reads an optional integer kwarg.
func intBound(e Expectation, name string) (bound, error) {
	raw := e.Kwargs[name]
	if raw == nil {
		return bound{}, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return bound{}, fmt.Errorf("%s: %s must be a number", e.Type, name)
	}
	f, err := n.Float64()
	if err != nil {
		return bound{}, fmt.Errorf("%s: %s: %w", e.Type, name, err)
	}
	return bound{set: true, v: Value{Kind: Double, Num: f}}, nil
}

func newRowCount(e Expectation, _ map[string]Column) (checker, error) {
	lo, err := intBound(e, "min_value")
	if err != nil {
		return nil, err
	}
	hi, err := intBound(e, "max_value")
	if err != nil {
		return nil, err
	}
	smin, err := boolArg(e, "strict_min", false)
	if err != nil {
		return nil, err
	}
	smax, err := boolArg(e, "strict_max", false)
	if err != nil {
		return nil, err
	}
	if lo.set && hi.set && lo.v.Num > hi.v.Num {
		return nil, fmt.Errorf("%s: minimum threshold cannot be larger than maximum threshold", e.Type)
	}
	return &tableCheck{fn: func(b Batch) (bool, map[string]any) {
		v := Value{Kind: Int64, Int: b.Rows}
		return within(v, lo, hi, smin, smax), map[string]any{"observed_value": b.Rows}
	}}, nil
}

func newColumnCountEqual(e Expectation, _ map[string]Column) (checker, error) {
	n, ok := e.Kwargs["value"].(json.Number)
	if !ok {
		return nil, fmt.Errorf("%s: kwargs.value must be a number", e.Type)
	}
	want, err := n.Int64()
	if err != nil {
		return nil, fmt.Errorf("%s: kwargs.value: %w", e.Type, err)
	}
	return &tableCheck{fn: func(b Batch) (bool, map[string]any) {
		return int64(len(b.Columns)) == want, map[string]any{"observed_value": len(b.Columns)}
	}}, nil
}

func newColumnExists(e Expectation, _ map[string]Column) (checker, error) {
	name, ok := e.Kwargs["column"].(string)
	if !ok || name == "" {
		return nil, fmt.Errorf("%s: kwargs.column must be a non-empty string", e.Type)
	}
	index := -1
	if raw := e.Kwargs["column_index"]; raw != nil {
		n, ok := raw.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 0 {
			return nil, fmt.Errorf("%s: column_index must be a non-negative integer", e.Type)
		}
		index = int(i)
	}
	return &tableCheck{fn: func(b Batch) (bool, map[string]any) {
		for i, c := range b.Columns {
			if c.Name == name {
				return index < 0 || index == i, map[string]any{}
			}
		}
		return false, map[string]any{}
	}}, nil
}

func newColumnsMatchSet(e Expectation, _ map[string]Column) (checker, error) {
	raw, ok := e.Kwargs["column_set"].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: kwargs.column_set must be a list", e.Type)
	}
	want := map[string]bool{}
	for _, x := range raw {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s: column_set entries must be strings", e.Type)
		}
		want[s] = true
	}
	exact, err := boolArg(e, "exact_match", true)
	if err != nil {
		return nil, err
	}
	return &tableCheck{fn: func(b Batch) (bool, map[string]any) {
		observed := make([]any, len(b.Columns))
		have := map[string]bool{}
		var unexpected []any
		for i, c := range b.Columns {
			observed[i] = c.Name
			have[c.Name] = true
			if !want[c.Name] {
				unexpected = append(unexpected, c.Name)
			}
		}
		var missing []string
		for s := range want {
			if !have[s] {
				missing = append(missing, s)
			}
		}
		sort.Strings(missing)
		ok := len(missing) == 0 && (!exact || len(unexpected) == 0)
		res := map[string]any{"observed_value": observed}
		if !ok {
			mm := map[string]any{"missing": anyList(missing)}
			if exact {
				mm["unexpected"] = orEmpty(unexpected)
			}
			res["details"] = map[string]any{"mismatched": mm}
		}
		return ok, res
	}}, nil
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func orEmpty(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

type aggKind int

const (
	aggMean aggKind = iota
	aggMin
	aggMax
)

// aggCheck computes a column's mean, min or max over its non-null values
// in one pass (mean with Neumaier summation, so a long column keeps its
// precision).
type aggCheck struct {
	kind      aggKind
	col       Column
	lo, hi    bound
	strictMin bool
	strictMax bool
	n         int64
	sum, comp float64
	best      Value
	have      bool
}

func newAggregate(kind aggKind) factory {
	return func(e Expectation, cols map[string]Column) (checker, error) {
		c, err := columnArg(e, cols)
		if err != nil {
			return nil, err
		}
		boundType := c.Type
		if kind == aggMean {
			if c.Type != TypeDouble && c.Type != TypeInt64 {
				return nil, fmt.Errorf("%s: column %q is %s; a mean needs a numeric column", e.Type, c.Name, c.Type)
			}
			boundType = TypeDouble
		}
		lo, hi, smin, smax, err := betweenArgs(e, boundType)
		if err != nil {
			return nil, err
		}
		return &aggCheck{kind: kind, col: c, lo: lo, hi: hi, strictMin: smin, strictMax: smax}, nil
	}
}

func (a *aggCheck) column() string { return a.col.Name }

func (a *aggCheck) observe(_ int64, v Value) {
	if v.Kind == Null {
		return
	}
	switch a.kind {
	case aggMean:
		f, _ := v.number()
		a.n++
		t := a.sum + f
		if math.Abs(a.sum) >= math.Abs(f) {
			a.comp += (a.sum - t) + f
		} else {
			a.comp += (f - t) + a.sum
		}
		a.sum = t
	case aggMin:
		if !a.have || compareValues(v, a.best) < 0 {
			a.best, a.have = v, true
		}
	case aggMax:
		if !a.have || compareValues(v, a.best) > 0 {
			a.best, a.have = v, true
		}
	}
}

func (a *aggCheck) finish(Batch) (bool, map[string]any) {
	var observed Value
	switch {
	case a.kind == aggMean && a.n > 0:
		observed = Value{Kind: Double, Num: (a.sum + a.comp) / float64(a.n)}
	case a.kind != aggMean && a.have:
		observed = a.best
	default:
		return false, map[string]any{"observed_value": nil}
	}
	return within(observed, a.lo, a.hi, a.strictMin, a.strictMax), map[string]any{"observed_value": observed.JSON()}
}
