package quality

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Suite is a Great Expectations expectation suite in GE's JSON shape
// (https://docs.greatexpectations.io/docs/reference/api/core/ExpectationSuite_class):
//
//	{"expectation_suite_name": "...", "expectations": [{"expectation_type": "...", "kwargs": {...}, "meta": {...}}], "meta": {...}}
//
// Numbers stay json.Number, so kwargs are echoed into results exactly.
type Suite struct {
	Name         string         `json:"expectation_suite_name"`
	Expectations []Expectation  `json:"expectations"`
	Meta         map[string]any `json:"meta"`
	// DataAssetType is kept for round trips of suites GE wrote (0.x).
	DataAssetType any `json:"data_asset_type,omitempty"`
}

// Expectation is one expectation configuration.
type Expectation struct {
	Type   string         `json:"expectation_type"`
	Kwargs map[string]any `json:"kwargs"`
	Meta   map[string]any `json:"meta"`
}

// Label names an expectation in lists and notifications:
// "expect_column_values_to_be_in_set(carrier)".
func (e Expectation) Label() string {
	if c, ok := e.Kwargs["column"].(string); ok {
		return e.Type + "(" + c + ")"
	}
	return e.Type
}

//go:embed suites/*.json
var builtin embed.FS

// BuiltinSuite returns the suite checked in for a record type
// (tasks/quality/suites/<record_type>.json).
func BuiltinSuite(recordType string) (Suite, bool, error) {
	b, err := builtin.ReadFile("suites/" + recordType + ".json")
	if err != nil {
		return Suite{}, false, nil
	}
	s, err := ParseSuite(b)
	if err != nil {
		return Suite{}, true, fmt.Errorf("built-in suite %s: %w", recordType, err)
	}
	return s, true, nil
}

// ParseSuite decodes a suite's JSON and checks its shape (not the kwargs:
// a bad kwarg is reported in that expectation's result, as GE does).
func ParseSuite(b []byte) (Suite, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return Suite{}, fmt.Errorf("decode suite: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Suite{}, errors.New("decode suite: trailing data after the suite object")
	}
	if s.Name == "" {
		return Suite{}, errors.New("suite has no expectation_suite_name")
	}
	for i, e := range s.Expectations {
		if e.Type == "" {
			return Suite{}, fmt.Errorf("expectation %d has no expectation_type", i)
		}
		if e.Kwargs == nil {
			s.Expectations[i].Kwargs = map[string]any{}
		}
		if e.Meta == nil {
			s.Expectations[i].Meta = map[string]any{}
		}
	}
	if s.Meta == nil {
		s.Meta = map[string]any{}
	}
	return s, nil
}
