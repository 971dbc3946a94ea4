package quality

import (
	"bytes"
	"encoding/json"
	"time"
)

// ValidationResult is GE's ExpectationSuiteValidationResult as JSON
// (https://docs.greatexpectations.io/docs/reference/api/core/ExpectationSuiteValidationResult_class):
// success, results, statistics, evaluation_parameters and meta (suite name,
// run id, batch spec, validation time).
type ValidationResult struct {
	Success              bool                `json:"success"`
	Results              []ExpectationResult `json:"results"`
	Statistics           Statistics          `json:"statistics"`
	EvaluationParameters map[string]any      `json:"evaluation_parameters"`
	Meta                 ResultMeta          `json:"meta"`
}

// Statistics counts the expectations of a run. SuccessPercent is null when
// the suite has no expectations (GE: calc_validation_statistics).
type Statistics struct {
	EvaluatedExpectations    int      `json:"evaluated_expectations"`
	SuccessfulExpectations   int      `json:"successful_expectations"`
	UnsuccessfulExpectations int      `json:"unsuccessful_expectations"`
	SuccessPercent           *float64 `json:"success_percent"`
}

// RunID is GE's run identifier.
type RunID struct {
	RunName string `json:"run_name"`
	RunTime string `json:"run_time"`
}

// BatchFile is one Parquet file of the validated partition.
type BatchFile struct {
	Key  string `json:"key"`
	ETag string `json:"etag"`
	Size int64  `json:"size"`
	Rows int64  `json:"rows"`
}

// BatchSpec names the partition and the exact file versions validated.
type BatchSpec struct {
	Bucket     string      `json:"bucket"`
	Prefix     string      `json:"prefix"`
	RecordType string      `json:"record_type"`
	Dt         string      `json:"dt"`
	Source     string      `json:"source"` // "layout" or "catalog"
	Files      []BatchFile `json:"files"`
	Rows       int64       `json:"rows"`
	Columns    []Column    `json:"columns"`
}

// ResultMeta is the meta block of a validation result.
type ResultMeta struct {
	GreatExpectationsVersion string         `json:"great_expectations_version"`
	ExpectationSuiteName     string         `json:"expectation_suite_name"`
	SuiteSource              string         `json:"suite_source"`
	RunID                    RunID          `json:"run_id"`
	BatchSpec                BatchSpec      `json:"batch_spec"`
	BatchMarkers             map[string]any `json:"batch_markers"`
	ValidationTime           string         `json:"validation_time"`
}

// evaluatorVersion says which GE result format the results follow.
const evaluatorVersion = "elt-quality/1 (Great Expectations 0.18 result format)"

// geTime is GE's compact timestamp form (run names, validation_time).
const geTime = "20060102T150405.000000Z"

// Summarise builds the validation result from the expectation results.
func Summarise(suite Suite, results []ExpectationResult, runName string, runTime time.Time, spec BatchSpec, suiteSource string) ValidationResult {
	st := Statistics{EvaluatedExpectations: len(results)}
	for _, r := range results {
		if r.Success {
			st.SuccessfulExpectations++
		}
	}
	st.UnsuccessfulExpectations = st.EvaluatedExpectations - st.SuccessfulExpectations
	if st.EvaluatedExpectations > 0 {
		p := float64(st.SuccessfulExpectations) / float64(st.EvaluatedExpectations) * 100
		st.SuccessPercent = &p
	}
	if results == nil {
		results = []ExpectationResult{}
	}
	return ValidationResult{
		Success:              st.UnsuccessfulExpectations == 0,
		Results:              results,
		Statistics:           st,
		EvaluationParameters: map[string]any{},
		Meta: ResultMeta{
			GreatExpectationsVersion: evaluatorVersion,
			ExpectationSuiteName:     suite.Name,
			SuiteSource:              suiteSource,
			RunID:                    RunID{RunName: runName, RunTime: runTime.UTC().Format("2006-01-02T15:04:05.000000+00:00")},
			BatchSpec:                spec,
			BatchMarkers:             map[string]any{"ge_load_time": runTime.UTC().Format(geTime)},
			ValidationTime:           runTime.UTC().Format(geTime),
		},
	}
}

// Failed lists the labels of the unsuccessful expectations, in suite order.
func (v ValidationResult) Failed() []string {
	out := []string{}
	for _, r := range v.Results {
		if !r.Success {
			out = append(out, r.ExpectationConfig.Label())
		}
	}
	return out
}

// EncodeJSON writes deterministic JSON: sorted map keys, two-space indent,
// no HTML escaping (regexes stay readable), trailing newline.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
