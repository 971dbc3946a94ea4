// Package mockconfig reads mock configuration files in the Step Functions
// Local format ("Using mocked service integrations for testing in Step
// Functions Local", AWS developer guide), so files written for Step
// Functions Local work unchanged with the local engine:
//
//	{"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<mocked response>"}}}},
//	 "MockedResponses": {"<mocked response>": {"0": {"Return": ...}, "1-2": {"Throw": {"Error": ..., "Cause": ...}}}}}
//
// Invocation keys are zero-based invocation indexes of the state within
// one execution (retries count as invocations), either a single index or an
// inclusive range "first-last".
package mockconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Config is a parsed mock configuration file.
type Config struct {
	StateMachines   map[string]StateMachine       `json:"StateMachines"`
	MockedResponses map[string]map[string]Outcome `json:"MockedResponses"`

	parsed map[string][]span // mocked response name -> invocation spans, sorted
}

// StateMachine holds the test cases of one state machine.
type StateMachine struct {
	TestCases map[string]map[string]string `json:"TestCases"`
}

// Outcome is what one invocation returns or throws.
type Outcome struct {
	Return any    `json:"Return,omitempty"`
	Throw  *Throw `json:"Throw,omitempty"`
}

// Throw is a mocked failure.
type Throw struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

type span struct {
	first, last int
	out         Outcome
}

// Load reads and checks a mock configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mock config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("mock config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a mock configuration and checks it: every invocation key
// is an index or range, ranges do not overlap, every outcome has exactly
// one of Return and Throw, and every test case names a mocked response
// that exists.
func Parse(data []byte) (*Config, error) {
	var c Config
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	// Return may legitimately be JSON null; detect presence separately.
	var raw struct {
		MockedResponses map[string]map[string]map[string]json.RawMessage `json:"MockedResponses"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	c.parsed = map[string][]span{}
	for name, byKey := range c.MockedResponses {
		var spans []span
		for key, out := range byKey {
			first, last, err := parseKey(key)
			if err != nil {
				return nil, fmt.Errorf("MockedResponses.%s: %w", name, err)
			}
			_, hasReturn := raw.MockedResponses[name][key]["Return"]
			if hasReturn == (out.Throw != nil) {
				return nil, fmt.Errorf("MockedResponses.%s.%s: exactly one of Return and Throw is required", name, key)
			}
			if out.Throw != nil && out.Throw.Error == "" {
				return nil, fmt.Errorf("MockedResponses.%s.%s: Throw.Error is required", name, key)
			}
			spans = append(spans, span{first: first, last: last, out: out})
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].first < spans[j].first })
		for i := 1; i < len(spans); i++ {
			if spans[i].first <= spans[i-1].last {
				return nil, fmt.Errorf("MockedResponses.%s: invocation %d is mocked twice", name, spans[i].first)
			}
		}
		if len(spans) == 0 {
			return nil, fmt.Errorf("MockedResponses.%s: no invocations", name)
		}
		c.parsed[name] = spans
	}
	for sm, m := range c.StateMachines {
		for tc, states := range m.TestCases {
			for state, resp := range states {
				if _, ok := c.parsed[resp]; !ok {
					return nil, fmt.Errorf("StateMachines.%s.TestCases.%s.%s: mocked response %q is not defined", sm, tc, state, resp)
				}
			}
		}
	}
	return &c, nil
}

func parseKey(key string) (int, int, error) {
	a, b, isRange := strings.Cut(key, "-")
	first, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil || first < 0 {
		return 0, 0, fmt.Errorf("invocation key %q is not an index or a range", key)
	}
	last := first
	if isRange {
		last, err = strconv.Atoi(strings.TrimSpace(b))
		if err != nil || last < first {
			return 0, 0, fmt.Errorf("invocation key %q is not a valid range", key)
		}
	}
	return first, last, nil
}

// TestCase selects one test case of one state machine: state name ->
// mocked response name.
func (c *Config) TestCase(stateMachine, testCase string) (map[string]string, error) {
	m, ok := c.StateMachines[stateMachine]
	if !ok {
		return nil, fmt.Errorf("mock config has no state machine %q", stateMachine)
	}
	tc, ok := m.TestCases[testCase]
	if !ok {
		return nil, fmt.Errorf("mock config has no test case %q for state machine %q", testCase, stateMachine)
	}
	return tc, nil
}

// Response returns the outcome of invocation index (zero-based) of a mocked
// response. Past the last mocked invocation the last outcome repeats, so a
// polling loop can be mocked as "0-1: not yet, 2: done". An index in a gap
// between keys is reported as not mocked.
func (c *Config) Response(name string, index int) (Outcome, error) {
	spans, ok := c.parsed[name]
	if !ok {
		return Outcome{}, fmt.Errorf("mocked response %q is not defined", name)
	}
	for _, s := range spans {
		if index >= s.first && index <= s.last {
			return s.out, nil
		}
	}
	lastSpan := spans[len(spans)-1]
	if index > lastSpan.last {
		return lastSpan.out, nil
	}
	return Outcome{}, fmt.Errorf("mocked response %q has no invocation %d", name, index)
}
