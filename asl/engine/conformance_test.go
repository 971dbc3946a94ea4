package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine/mockconfig"
)

// conformanceCase is one spec test as data (the gojq cli/test.yaml idea):
// a definition, its input, mocked task responses in the Step Functions
// Local format keyed by state name, and the expected outcome.
type conformanceCase struct {
	Name       string                     `json:"name"`
	Source     string                     `json:"source"` // the AWS developer guide page the case comes from
	Definition json.RawMessage            `json:"definition"`
	Input      json.RawMessage            `json:"input"`
	Mocks      map[string]json.RawMessage `json:"mocks"`
	// PayloadLimit lowers the 256 KiB quota so a case can exceed it cheaply.
	PayloadLimit int `json:"payloadLimit"`
	Expect       struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  string          `json:"error"`
		Cause  string          `json:"cause"`
		// CauseContains checks a substring of the cause.
		CauseContains string `json:"causeContains"`
		// Seconds is the virtual time the execution took.
		Seconds *float64 `json:"seconds"`
		// Events, when set, are the history event types in order.
		Events []string `json:"events"`
	} `json:"expect"`
}

func loadCases(t *testing.T) map[string][]conformanceCase {
	files, err := filepath.Glob("testdata/conformance/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	out := map[string][]conformanceCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []conformanceCase
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = cs
	}
	return out
}

func canonical(t *testing.T, raw []byte) string {
	t.Helper()
	v, err := decodeJSON(raw)
	if err != nil {
		t.Fatalf("not JSON: %s: %v", raw, err)
	}
	return jsonText(v)
}

func TestConformance(t *testing.T) {
	for file, cases := range loadCases(t) {
		t.Run(file, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.Name, func(t *testing.T) { runCase(t, tc) })
			}
		})
	}
}

func runCase(t *testing.T, tc conformanceCase) {
	m, err := Compile(tc.Definition)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	opts := Options{Seed: 1, PayloadLimit: tc.PayloadLimit}
	testCase := ""
	if len(tc.Mocks) > 0 {
		states := map[string]string{}
		for s := range tc.Mocks {
			states[s] = s
		}
		doc, _ := json.Marshal(map[string]any{
			"StateMachines":   map[string]any{"local": map[string]any{"TestCases": map[string]any{"case": states}}},
			"MockedResponses": tc.Mocks,
		})
		if opts.Mocks, err = mockconfig.Parse(doc); err != nil {
			t.Fatalf("mocks: %v", err)
		}
		testCase = "case"
	}
	n := 0
	opts.UUID = func() string {
		n++
		return "00000000-0000-4000-8000-" + strings.Repeat("0", 8) + string(rune('a'+n%26)) + "000"
	}
	e := New(opts)
	input := "{}"
	if len(tc.Input) > 0 {
		input = string(tc.Input)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x, err := e.Execute(ctx, StartInput{Machine: m, Input: input, TestCase: testCase, Name: "conformance"})
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	want := tc.Expect.Status
	if want == "" {
		want = StatusSucceeded
	}
	if x.Status != want {
		t.Fatalf("status %s (error %q cause %q), want %s", x.Status, x.Error, x.Cause, want)
	}
	if len(tc.Expect.Output) > 0 {
		got := "<none>"
		if x.Output != nil {
			got = canonical(t, []byte(*x.Output))
		}
		if w := canonical(t, tc.Expect.Output); got != w {
			t.Errorf("output\n got %s\nwant %s", got, w)
		}
	}
	if tc.Expect.Error != "" && x.Error != tc.Expect.Error {
		t.Errorf("error %q, want %q (cause %q)", x.Error, tc.Expect.Error, x.Cause)
	}
	if tc.Expect.Cause != "" && x.Cause != tc.Expect.Cause {
		t.Errorf("cause %q, want %q", x.Cause, tc.Expect.Cause)
	}
	if tc.Expect.CauseContains != "" && !strings.Contains(x.Cause, tc.Expect.CauseContains) {
		t.Errorf("cause %q does not contain %q", x.Cause, tc.Expect.CauseContains)
	}
	if tc.Expect.Seconds != nil {
		if got := x.StopDate.Sub(x.StartDate).Seconds(); got != *tc.Expect.Seconds {
			t.Errorf("took %v virtual seconds, want %v", got, *tc.Expect.Seconds)
		}
	}
	if tc.Expect.Events != nil {
		evs, _ := e.Store().History(ctx, x.ExecutionArn)
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Type)
		}
		if !reflect.DeepEqual(got, tc.Expect.Events) {
			t.Errorf("events\n got %q\nwant %q", got, tc.Expect.Events)
		}
	}
}
