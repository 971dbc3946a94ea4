package quality_test

import (
	"path/filepath"
	"testing"

	"github.com/serverless-elt/elt/tasks/quality"
)

// The HTML report, byte for byte, for a passing run without expectations
// and a failing run whose values need escaping (markup, quotes, '&', '+',
// a NUL) in every place a value is printed. The golden files were written
// by the html/template renderer; the report is now written without
// text/template (its reflective method calls made the linker keep every
// method of every AWS SDK client in the Lambda bootstrap, 35.6 -> 20.4 MB),
// and must stay the same page.
func TestRenderHTMLGolden(t *testing.T) {
	pct := func(f float64) *float64 { return &f }
	msg := `column "x" <missing> & more`
	spec := quality.BatchSpec{Bucket: "silver", Prefix: "silver/shipments/dt=2024-05-01/", RecordType: "shipments", Dt: "2024-05-01", Source: "layout", Rows: 3,
		Files: []quality.BatchFile{
			{Key: "silver/shipments/dt=2024-05-01/part-a-c00000.parquet", ETag: "e1", Size: 10, Rows: 2},
			{Key: "silver/shipments/dt=2024-05-01/part-<b>&'c\"+-c00000.parquet", ETag: "e+2", Size: 20, Rows: 1},
		}}
	tests := []struct {
		name      string
		v         quality.ValidationResult
		resultKey string
	}{
		{"empty_suite", quality.ValidationResult{Success: true,
			Meta: quality.ResultMeta{ExpectationSuiteName: "shipments", SuiteSource: "default", RunID: quality.RunID{RunName: "run-1", RunTime: "2024-05-02T00:00:00Z"},
				BatchSpec: quality.BatchSpec{Bucket: "silver", Prefix: "silver/shipments/dt=2024-05-01/", RecordType: "shipments", Dt: "2024-05-01", Source: "catalog"}}},
			"ge/results/shipments/dt=2024-05-01/run-1.json"},
		{"failures_escaped", quality.ValidationResult{Success: false,
			Statistics: quality.Statistics{EvaluatedExpectations: 3, SuccessfulExpectations: 1, UnsuccessfulExpectations: 2, SuccessPercent: pct(100.0 / 3)},
			Results: []quality.ExpectationResult{
				{Success: true, ExpectationConfig: quality.Expectation{Type: "expect_table_row_count_to_be_between", Kwargs: map[string]any{"min_value": 1, "max_value": nil}},
					Result: map[string]any{"observed_value": 3}},
				{Success: false, ExpectationConfig: quality.Expectation{Type: "expect_column_values_to_be_in_set", Kwargs: map[string]any{"column": "carrier<i>", "value_set": []any{"A&B", "C+D", "'q'"}, "mostly": 0.5}},
					Result: map[string]any{"unexpected_count": 2, "unexpected_percent": 66.66666, "partial_unexpected_list": []any{"<script>alert(1)</script>", "x\x00y", 7, map[string]any{"k": "v\"w"}}}},
				{Success: false, ExpectationConfig: quality.Expectation{Type: "expect_column_values_to_match_regex", Kwargs: map[string]any{"column": "id", "regex": "^a+b$"}},
					ExceptionInfo: quality.ExceptionInfo{RaisedException: true, ExceptionMessage: &msg}},
			},
			Meta: quality.ResultMeta{ExpectationSuiteName: "ship<ments>", SuiteSource: "s3://silver/ge/suites/x&y.json", RunID: quality.RunID{RunName: "run \"2\"", RunTime: "2024-05-02T00:00:00+02:00"}, BatchSpec: spec}},
			"ge/results/shipments/dt=2024-05-01/run+2.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := quality.RenderHTML(tc.v, tc.resultKey)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "report", tc.name+".html"), got)
		})
	}
}
