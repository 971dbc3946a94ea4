package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/serverless-elt/elt/asl"
	"github.com/serverless-elt/elt/asl/jsonpath"
)

// Machine is a compiled state machine: parsed once, checked, immutable,
// and safe to run from many goroutines at once (the gojq parse -> compile
// -> run split). Compile errors name the state and field at fault.
type Machine struct {
	root       *program
	definition string
}

// Definition is the JSON text the machine was compiled from.
func (m *Machine) Definition() string { return m.definition }

// program is one state graph: the top level, a Parallel branch or a Map
// item processor.
type program struct {
	startAt string
	states  map[string]*state
	timeout time.Duration // top level TimeoutSeconds; 0 = none
}

// optPath is an InputPath/OutputPath: absent means "$", null means "{}".
type optPath struct {
	null bool
	path *jsonpath.Path // nil with !null means "$"
}

// resultPath: absent means "$" (replace), null means discard the result.
type resultPath struct {
	discard bool
	path    *jsonpath.Path // nil with !discard means "$"
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  resultPath
}

type state struct {
	name string
	typ  string
	next string
	end  bool

	inputPath      optPath
	outputPath     optPath
	parameters     *template
	resultSelector *template
	resultPath     resultPath
	retry          []Retrier
	catch          []catcher

	// Task
	resource         string
	timeoutSeconds   float64
	timeoutPath      *jsonpath.Path
	heartbeatSeconds float64
	heartbeatPath    *jsonpath.Path
	credentials      any

	// Pass
	result    any
	hasResult bool

	// Wait
	waitSeconds       *float64
	waitSecondsPath   *jsonpath.Path
	waitTimestamp     *time.Time
	waitTimestampPath *jsonpath.Path

	// Choice
	choices     []*rule
	defaultNext string

	// Fail
	errorName string
	cause     string
	errorPath *jsonpath.Path
	causePath *jsonpath.Path

	// Parallel
	branches []*program

	// Map
	processor         *program
	distributed       bool
	itemsPath         *jsonpath.Path
	itemSelector      *template // ItemSelector or the legacy Parameters of a Map
	maxConcurrency    int
	maxConcPath       *jsonpath.Path
	itemReader        *itemReader
	itemBatcher       *itemBatcher
	resultWriter      *resultWriter
	toleratedPct      float64
	toleratedPctPath  *jsonpath.Path
	toleratedCount    int
	toleratedCntPath  *jsonpath.Path
	hasToleratedPct   bool
	hasToleratedCount bool
	label             string
}

type itemReader struct {
	resource          string
	parameters        *template
	inputType         string // JSON, JSONL, CSV, MANIFEST, or "" for a listing
	csvHeaderLocation string
	csvHeaders        []string
	maxItems          int
	maxItemsPath      *jsonpath.Path
}

type itemBatcher struct {
	maxItems     int
	maxItemsPath *jsonpath.Path
	maxBytes     int
	maxBytesPath *jsonpath.Path
	batchInput   *template
}

type resultWriter struct {
	resource   string
	parameters *template
}

// Compile parses and checks a definition (Amazon States Language, JSONPath
// query language). It checks what the interpreter relies on; run
// validate.Definition first for the full set of static checks.
func Compile(definition []byte) (*Machine, error) {
	// The team's typed model decides what a structurally valid definition
	// is; the engine then compiles the same document into its own
	// execution-oriented form (paths and templates parsed once).
	if _, err := asl.Parse(definition); err != nil {
		return nil, fmt.Errorf("invalid definition: %w", err)
	}
	v, err := decodeJSON(definition)
	if err != nil {
		return nil, fmt.Errorf("definition is not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("definition must be a JSON object")
	}
	c := &compiler{}
	p := c.program(obj, "")
	if len(c.errs) > 0 {
		return nil, fmt.Errorf("invalid definition: %s", strings.Join(c.errs, "; "))
	}
	return &Machine{root: p, definition: string(definition)}, nil
}

// FromModel compiles a state machine built or parsed with package asl
// (the Go builders of workflows/ run this way without a JSON file).
func FromModel(sm *asl.StateMachine) (*Machine, error) {
	data, err := asl.Encode(sm)
	if err != nil {
		return nil, fmt.Errorf("encode state machine: %w", err)
	}
	return Compile(data)
}

type compiler struct {
	errs []string
}

func (c *compiler) fail(where, format string, args ...any) {
	c.errs = append(c.errs, where+": "+fmt.Sprintf(format, args...))
}

func (c *compiler) program(obj map[string]any, where string) *program {
	p := &program{states: map[string]*state{}}
	if ql, ok := obj["QueryLanguage"].(string); ok && ql != "JSONPath" {
		c.fail(where+"/QueryLanguage", "only the JSONPath query language is supported, not %q", ql)
	}
	p.startAt, _ = obj["StartAt"].(string)
	if p.startAt == "" {
		c.fail(where+"/StartAt", "required")
	}
	if t, ok := obj["TimeoutSeconds"]; ok {
		p.timeout = time.Duration(c.number(t, where+"/TimeoutSeconds") * float64(time.Second))
	}
	states, ok := obj["States"].(map[string]any)
	if !ok || len(states) == 0 {
		c.fail(where+"/States", "required and must be a non-empty object")
		return p
	}
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		so, ok := states[n].(map[string]any)
		if !ok {
			c.fail(where+"/States/"+n, "must be an object")
			continue
		}
		p.states[n] = c.state(n, so, where+"/States/"+n)
	}
	if _, ok := p.states[p.startAt]; !ok && p.startAt != "" {
		c.fail(where+"/StartAt", "state %q does not exist", p.startAt)
	}
	for _, n := range names {
		s := p.states[n]
		if s == nil {
			continue
		}
		check := func(target, field string) {
			if target == "" {
				return
			}
			if _, ok := p.states[target]; !ok {
				c.fail(where+"/States/"+n+"/"+field, "state %q does not exist in this scope", target)
			}
		}
		check(s.next, "Next")
		check(s.defaultNext, "Default")
		for _, k := range s.catch {
			check(k.next, "Catch")
		}
		for _, r := range s.choices {
			check(r.next, "Choices") // only top-level rules have a Next
		}
	}
	return p
}

func (c *compiler) number(v any, where string) float64 {
	n, ok := v.(json.Number)
	if !ok {
		c.fail(where, "must be a number")
		return 0
	}
	f, err := n.Float64()
	if err != nil {
		c.fail(where, "must be a number")
	}
	return f
}

func (c *compiler) path(v any, where string, reference bool) *jsonpath.Path {
	s, ok := v.(string)
	if !ok {
		c.fail(where, "must be a path string")
		return nil
	}
	var p *jsonpath.Path
	var err error
	if reference {
		p, err = jsonpath.ParseReference(s)
	} else {
		p, err = jsonpath.Parse(s)
	}
	if err != nil {
		c.fail(where, "%v", err)
		return nil
	}
	return p
}

func (c *compiler) optPath(obj map[string]any, field, where string) optPath {
	v, ok := obj[field]
	if !ok {
		return optPath{}
	}
	if v == nil {
		return optPath{null: true}
	}
	return optPath{path: c.path(v, where+"/"+field, false)}
}

func (c *compiler) resultPath(obj map[string]any, where string) resultPath {
	v, ok := obj["ResultPath"]
	if !ok {
		return resultPath{}
	}
	if v == nil {
		return resultPath{discard: true}
	}
	return resultPath{path: c.path(v, where+"/ResultPath", true)}
}

func (c *compiler) template(obj map[string]any, field, where string) *template {
	v, ok := obj[field]
	if !ok {
		return nil
	}
	t, err := compileTemplate(v)
	if err != nil {
		c.fail(where+"/"+field, "%v", err)
		return nil
	}
	return t
}

func (c *compiler) intField(obj map[string]any, field, where string) (int, bool) {
	v, ok := obj[field]
	if !ok {
		return 0, false
	}
	f := c.number(v, where+"/"+field)
	if f != math.Trunc(f) || f < 0 {
		c.fail(where+"/"+field, "must be a non-negative integer")
	}
	return int(f), true
}

func (c *compiler) state(name string, obj map[string]any, where string) *state {
	s := &state{name: name}
	s.typ, _ = obj["Type"].(string)
	// Workflow variables need "$name" references in every path and
	// template, which the JSONPath and payload packages do not resolve;
	// refusing is better than silently running without them.
	if _, ok := obj["Assign"]; ok {
		c.fail(where+"/Assign", "workflow variables (Assign) are not supported by the local engine")
	}
	s.next, _ = obj["Next"].(string)
	s.end, _ = obj["End"].(bool)
	s.inputPath = c.optPath(obj, "InputPath", where)
	s.outputPath = c.optPath(obj, "OutputPath", where)
	s.resultPath = c.resultPath(obj, where)
	switch s.typ {
	case "Task", "Pass", "Parallel":
		s.parameters = c.template(obj, "Parameters", where)
	}
	s.resultSelector = c.template(obj, "ResultSelector", where)
	if rs, ok := obj["Retry"].([]any); ok {
		for i, r := range rs {
			s.retry = append(s.retry, c.retrier(r, fmt.Sprintf("%s/Retry/%d", where, i)))
		}
	}
	if cs, ok := obj["Catch"].([]any); ok {
		for i, k := range cs {
			w := fmt.Sprintf("%s/Catch/%d", where, i)
			ko, _ := k.(map[string]any)
			var ct catcher
			ct.errorEquals = c.strings(ko["ErrorEquals"], w+"/ErrorEquals")
			ct.next, _ = ko["Next"].(string)
			if ct.next == "" {
				c.fail(w+"/Next", "required")
			}
			ct.resultPath = c.resultPath(ko, w)
			if _, ok := ko["Assign"]; ok {
				c.fail(w+"/Assign", "workflow variables (Assign) are not supported by the local engine")
			}
			s.catch = append(s.catch, ct)
		}
	}
	needsTransition := true
	switch s.typ {
	case "Task":
		s.resource, _ = obj["Resource"].(string)
		if s.resource == "" {
			c.fail(where+"/Resource", "required")
		}
		if v, ok := obj["TimeoutSeconds"]; ok {
			s.timeoutSeconds = c.number(v, where+"/TimeoutSeconds")
		}
		if v, ok := obj["TimeoutSecondsPath"]; ok {
			s.timeoutPath = c.path(v, where+"/TimeoutSecondsPath", true)
		}
		if v, ok := obj["HeartbeatSeconds"]; ok {
			s.heartbeatSeconds = c.number(v, where+"/HeartbeatSeconds")
		}
		if v, ok := obj["HeartbeatSecondsPath"]; ok {
			s.heartbeatPath = c.path(v, where+"/HeartbeatSecondsPath", true)
		}
	case "Pass":
		s.result, s.hasResult = obj["Result"]
	case "Wait":
		if v, ok := obj["Seconds"]; ok {
			f := c.number(v, where+"/Seconds")
			s.waitSeconds = &f
		}
		if v, ok := obj["SecondsPath"]; ok {
			s.waitSecondsPath = c.path(v, where+"/SecondsPath", true)
		}
		if v, ok := obj["Timestamp"]; ok {
			str, _ := v.(string)
			t, err := time.Parse(time.RFC3339, str)
			if err != nil {
				c.fail(where+"/Timestamp", "not an RFC 3339 timestamp: %q", str)
			}
			s.waitTimestamp = &t
		}
		if v, ok := obj["TimestampPath"]; ok {
			s.waitTimestampPath = c.path(v, where+"/TimestampPath", true)
		}
	case "Choice":
		needsTransition = false
		cs, _ := obj["Choices"].([]any)
		if len(cs) == 0 {
			c.fail(where+"/Choices", "required and non-empty")
		}
		for i, r := range cs {
			w := fmt.Sprintf("%s/Choices/%d", where, i)
			ro, _ := r.(map[string]any)
			rl := c.rule(ro, w, true)
			s.choices = append(s.choices, rl)
		}
		s.defaultNext, _ = obj["Default"].(string)
	case "Succeed":
		needsTransition = false
	case "Fail":
		needsTransition = false
		s.errorName, _ = obj["Error"].(string)
		s.cause, _ = obj["Cause"].(string)
		if v, ok := obj["ErrorPath"]; ok {
			s.errorPath = c.path(v, where+"/ErrorPath", false)
		}
		if v, ok := obj["CausePath"]; ok {
			s.causePath = c.path(v, where+"/CausePath", false)
		}
	case "Parallel":
		bs, _ := obj["Branches"].([]any)
		if len(bs) == 0 {
			c.fail(where+"/Branches", "required and non-empty")
		}
		for i, b := range bs {
			bo, _ := b.(map[string]any)
			if bo == nil {
				c.fail(fmt.Sprintf("%s/Branches/%d", where, i), "must be an object")
				continue
			}
			s.branches = append(s.branches, c.program(bo, fmt.Sprintf("%s/Branches/%d", where, i)))
		}
	case "Map":
		c.mapState(s, obj, where)
	default:
		c.fail(where+"/Type", "unknown state type %q", s.typ)
	}
	if needsTransition && (s.next == "") == !s.end {
		c.fail(where, "exactly one of Next and End is required")
	}
	return s
}

func (c *compiler) strings(v any, where string) []string {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		c.fail(where, "must be a non-empty array of strings")
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			c.fail(where, "must be a non-empty array of strings")
			continue
		}
		out = append(out, s)
	}
	return out
}

func (c *compiler) retrier(v any, where string) Retrier {
	o, _ := v.(map[string]any)
	r := Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
	r.ErrorEquals = c.strings(o["ErrorEquals"], where+"/ErrorEquals")
	if x, ok := o["IntervalSeconds"]; ok {
		r.IntervalSeconds = c.number(x, where+"/IntervalSeconds")
	}
	if n, ok := c.intField(o, "MaxAttempts", where); ok {
		r.MaxAttempts = n
	}
	if x, ok := o["BackoffRate"]; ok {
		r.BackoffRate = c.number(x, where+"/BackoffRate")
		if r.BackoffRate < 1 {
			c.fail(where+"/BackoffRate", "must be at least 1.0")
		}
	}
	if x, ok := o["MaxDelaySeconds"]; ok {
		r.MaxDelaySeconds = c.number(x, where+"/MaxDelaySeconds")
	}
	if j, ok := o["JitterStrategy"].(string); ok {
		switch j {
		case "FULL":
			r.JitterFull = true
		case "NONE":
		default:
			c.fail(where+"/JitterStrategy", "must be FULL or NONE")
		}
	}
	return r
}

func (c *compiler) mapState(s *state, obj map[string]any, where string) {
	proc, _ := obj["ItemProcessor"].(map[string]any)
	procWhere := where + "/ItemProcessor"
	if proc == nil {
		proc, _ = obj["Iterator"].(map[string]any)
		procWhere = where + "/Iterator"
	}
	if proc == nil {
		c.fail(where+"/ItemProcessor", "required")
	} else {
		if pc, ok := proc["ProcessorConfig"].(map[string]any); ok {
			s.distributed = pc["Mode"] == "DISTRIBUTED"
		}
		s.processor = c.program(proc, procWhere)
	}
	if v, ok := obj["ItemsPath"]; ok {
		s.itemsPath = c.path(v, where+"/ItemsPath", true)
	}
	s.itemSelector = c.template(obj, "ItemSelector", where)
	if s.itemSelector == nil {
		s.itemSelector = c.template(obj, "Parameters", where)
	}
	if n, ok := c.intField(obj, "MaxConcurrency", where); ok {
		s.maxConcurrency = n
	}
	if v, ok := obj["MaxConcurrencyPath"]; ok {
		s.maxConcPath = c.path(v, where+"/MaxConcurrencyPath", true)
	}
	if v, ok := obj["ToleratedFailurePercentage"]; ok {
		s.toleratedPct, s.hasToleratedPct = c.number(v, where+"/ToleratedFailurePercentage"), true
	}
	if v, ok := obj["ToleratedFailurePercentagePath"]; ok {
		s.toleratedPctPath = c.path(v, where+"/ToleratedFailurePercentagePath", true)
	}
	if n, ok := c.intField(obj, "ToleratedFailureCount", where); ok {
		s.toleratedCount, s.hasToleratedCount = n, true
	}
	if v, ok := obj["ToleratedFailureCountPath"]; ok {
		s.toleratedCntPath = c.path(v, where+"/ToleratedFailureCountPath", true)
	}
	s.label, _ = obj["Label"].(string)
	if ir, ok := obj["ItemReader"].(map[string]any); ok {
		w := where + "/ItemReader"
		r := &itemReader{}
		r.resource, _ = ir["Resource"].(string)
		r.parameters = c.template(ir, "Parameters", w)
		if rc, ok := ir["ReaderConfig"].(map[string]any); ok {
			r.inputType, _ = rc["InputType"].(string)
			r.csvHeaderLocation, _ = rc["CSVHeaderLocation"].(string)
			if hs, ok := rc["CSVHeaders"]; ok {
				r.csvHeaders = c.strings(hs, w+"/ReaderConfig/CSVHeaders")
			}
			if n, ok := c.intField(rc, "MaxItems", w+"/ReaderConfig"); ok {
				r.maxItems = n
			}
			if v, ok := rc["MaxItemsPath"]; ok {
				r.maxItemsPath = c.path(v, w+"/ReaderConfig/MaxItemsPath", true)
			}
		}
		s.itemReader = r
	}
	if ib, ok := obj["ItemBatcher"].(map[string]any); ok {
		w := where + "/ItemBatcher"
		b := &itemBatcher{}
		b.maxItems, _ = c.intField(ib, "MaxItemsPerBatch", w)
		if v, ok := ib["MaxItemsPerBatchPath"]; ok {
			b.maxItemsPath = c.path(v, w+"/MaxItemsPerBatchPath", true)
		}
		b.maxBytes, _ = c.intField(ib, "MaxInputBytesPerBatch", w)
		if v, ok := ib["MaxInputBytesPerBatchPath"]; ok {
			b.maxBytesPath = c.path(v, w+"/MaxInputBytesPerBatchPath", true)
		}
		b.batchInput = c.template(ib, "BatchInput", w)
		s.itemBatcher = b
	}
	if rw, ok := obj["ResultWriter"].(map[string]any); ok {
		w := &resultWriter{}
		w.resource, _ = rw["Resource"].(string)
		w.parameters = c.template(rw, "Parameters", where+"/ResultWriter")
		s.resultWriter = w
	}
}
