package validate

// Rule ids, and where each rule comes from. The pages are the AWS Step
// Functions developer guide (https://docs.aws.amazon.com/step-functions/latest/dg/)
// and the ASL specification (https://states-language.net/spec.html); "statelint"
// is awslabs/statelint (data/StateMachine.j2119, lib/statelint/state_node.rb).
//
//	json-syntax                 the document is not JSON
//	duplicate-key               an object member appears twice (encoding/json keeps the last silently)
//	duplicate-state-name        state names are unique in the whole machine, branches included (statelint)
//	field-required              a field the state type needs is missing (amazon-states-language-*-state.html)
//	field-type                  a field has the wrong JSON type
//	field-not-allowed           a field the state type (or object) does not have
//	fields-exclusive            X and XPath, Error/ErrorPath, ItemProcessor/Iterator, ...: at most one
//	enum                        a value outside its documented set (Version, JitterStrategy, Mode, ...)
//	out-of-range                a number outside its documented range
//	state-type-invalid          Type is not one of the eight state types
//	state-name-too-long         state names are at most 80 characters (amazon-states-language-states.html)
//	state-name-invalid          an empty state name
//	states-empty                a States object with no state
//	start-at-target-missing     StartAt names no state of its States object
//	next-target-missing         Next, Default, a Choice rule's Next or a Catcher's Next names no state
//	                            of the same States object (a Next may not leave its branch)
//	state-unreachable           no path of transitions from StartAt reaches the state
//	no-terminal-state           no Succeed, Fail or End: true state
//	next-and-end                a state with both Next and End: true
//	next-or-end-missing         a Pass, Task, Wait, Parallel or Map state with neither
//	resource-invalid            Task Resource is not an ARN
//	path-invalid                InputPath/OutputPath is not a Path (amazon-states-language-paths.html)
//	reference-path-invalid      ResultPath, ItemsPath, Variable, ...Path fields are not reference paths
//	intrinsic-invalid           ErrorPath/CausePath intrinsic call with a bad name, arity or syntax
//	payload-invalid             a ".$" key in Parameters, ResultSelector, ItemSelector, ... holds no
//	                            valid path or intrinsic call (input-output-inputpath-params.html)
//	timestamp-invalid           not RFC 3339 with uppercase T and Z or an offset (Wait, Choice)
//	heartbeat-not-below-timeout HeartbeatSeconds must be smaller than TimeoutSeconds (task state)
//	error-equals-empty          ErrorEquals needs at least one error name (statelint)
//	states-all-not-alone        States.ALL must be alone in its ErrorEquals (concepts-error-handling.html)
//	states-all-not-last         a retrier/catcher with States.ALL must be the last one
//	choices-empty               a Choice state needs at least one rule
//	choice-rule-next-missing    a top-level Choice rule needs Next
//	choice-nested-next          a rule inside And/Or/Not may not have Next
//	choice-operator-missing     a rule needs one comparison operator (or And/Or/Not)
//	choice-operator-multiple    a rule has more than one operator
//	choice-operand-type         e.g. StringEquals with a number, IsPresent with a string
//	choice-rule-empty           And/Or with no rule
//	branches-empty              a Parallel state with no branch
//	distributed-only            ItemReader, ItemBatcher, ResultWriter, ToleratedFailure*, Label,
//	                            ExecutionType only in a DISTRIBUTED Map (state-map-distributed.html)
//	label-invalid               Map Label longer than 40 characters or with a forbidden character
//	query-language-unsupported  QueryLanguage other than "JSONPath" (this validator is JSONPath only)
//	schema                      the generated JSON Schema rejects the document

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/serverless-elt/elt/asl/intrinsic"
	"github.com/serverless-elt/elt/asl/jsonpath"
	"github.com/serverless-elt/elt/asl/payload"
)

// maxSeconds is the documented upper bound of TimeoutSeconds, HeartbeatSeconds,
// Wait Seconds, IntervalSeconds and MaxAttempts.
const maxSeconds = 99999999

// maxDelaySeconds is the upper bound of a retrier's MaxDelaySeconds
// (concepts-error-handling.html: "less than 31622401").
const maxDelaySeconds = 31622400

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	topFields       = set("Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage")
	branchFields    = set("Comment", "StartAt", "States")
	processorFields = set("Comment", "StartAt", "States", "ProcessorConfig")

	// stateFields lists the fields each state type may have
	// (amazon-states-language-common-fields.html and the page of each type).
	stateFields = func() map[string]map[string]bool {
		common := []string{"Type", "Comment", "QueryLanguage"}
		io := []string{"InputPath", "OutputPath"}
		flow := []string{"Next", "End"}
		result := []string{"Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign"}
		join := func(parts ...[]string) map[string]bool {
			var all []string
			for _, p := range parts {
				all = append(all, p...)
			}
			return set(all...)
		}
		return map[string]map[string]bool{
			"Pass":     join(common, io, flow, []string{"Parameters", "ResultPath", "Result", "Assign"}),
			"Task":     join(common, io, flow, result, []string{"Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials"}),
			"Choice":   join(common, io, []string{"Choices", "Default", "Assign"}),
			"Wait":     join(common, io, flow, []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"}),
			"Succeed":  join(common, io),
			"Fail":     join(common, []string{"Error", "ErrorPath", "Cause", "CausePath"}),
			"Parallel": join(common, io, flow, result, []string{"Branches"}),
			"Map": join(common, io, flow, result, []string{"ItemProcessor", "Iterator", "ItemsPath", "ItemReader", "ItemSelector",
				"ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
				"ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"}),
		}
	}()
	stateTypes = []string{"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}

	retrierFields = set("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
	catcherFields = set("ErrorEquals", "Next", "ResultPath", "Comment", "Assign")

	// operandKinds says what each Choice comparison operator compares with
	// (amazon-states-language-choice-state.html, "Choice Rules").
	operandKinds = func() map[string]string {
		m := map[string]string{"StringMatches": "string", "BooleanEquals": "boolean", "BooleanEqualsPath": "path"}
		for _, op := range []string{"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"} {
			m["String"+op] = "string"
			m["Numeric"+op] = "number"
			m["Timestamp"+op] = "timestamp"
			m["String"+op+"Path"] = "path"
			m["Numeric"+op+"Path"] = "path"
			m["Timestamp"+op+"Path"] = "path"
		}
		for _, is := range []string{"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"} {
			m[is] = "boolean"
		}
		return m
	}()

	// placeholderRE matches a Terraform templatefile interpolation.
	placeholderRE = regexp.MustCompile(`\$\{[^{}]+\}`)
	arnRE         = regexp.MustCompile(`^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$`)
	timestampRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// edge is one transition: the pointer of the field naming the target.
type edge struct {
	pointer string
	field   *node
	target  string
}

func isPlaceholder(s string) bool { return placeholderRE.MatchString(s) }

func (c *checker) topLevel(root *node) {
	if root.kind != kindObject {
		c.add(root, "", "field-type", "a state machine definition must be a JSON object, not %s", root.kind)
		return
	}
	if v := root.get("Version"); v != nil {
		if s, ok := c.stringField(root, "", "Version"); ok && s != "1.0" && !isPlaceholder(s) {
			c.add(v, "/Version", "enum", "Version must be \"1.0\", not %q", s)
		}
	}
	c.intField(root, "", "TimeoutSeconds", 1, maxSeconds)
	c.machine(root, "", topFields, "the state machine")
}

// machine checks a state machine object: the top level, a Parallel branch or
// a Map item processor, each a machine of its own with its own StartAt,
// targets and reachability.
func (c *checker) machine(m *node, base string, allowed map[string]bool, what string) {
	c.allowed(m, base, allowed, what)
	c.stringField(m, base, "Comment")
	c.queryLanguage(m, base)
	statesPtr := base + "/States"
	states := m.get("States")
	switch {
	case states == nil:
		c.add(m, base, "field-required", "%s needs States", what)
	case states.kind != kindObject:
		c.add(states, statesPtr, "field-type", "States must be an object, not %s", states.kind)
		states = nil
	case len(states.members) == 0:
		c.add(states, statesPtr, "states-empty", "States needs at least one state")
	}
	startAt, hasStart := c.stringField(m, base, "StartAt")
	if m.get("StartAt") == nil {
		c.add(m, base, "field-required", "%s needs StartAt", what)
	}
	if states == nil {
		return
	}
	c.statesObjects[states] = true

	local := map[string]bool{}
	var order []string
	out := map[string][]edge{}
	terminal := false
	for _, mem := range states.members {
		name, st := mem.key, mem.val
		sp := ptr(statesPtr, name)
		if n := utf8.RuneCountInString(name); n > 80 {
			c.add(st, sp, "state-name-too-long", "state name has %d characters; at most 80 are allowed", n)
		} else if n == 0 {
			c.add(st, sp, "state-name-invalid", "state name must not be empty")
		}
		if !local[name] {
			if first, dup := c.names[name]; dup {
				c.add(st, sp, "duplicate-state-name", "state %q is already defined at %s; names must be unique in the whole state machine", name, first)
			} else {
				c.names[name] = sp
			}
			order = append(order, name)
		}
		local[name] = true
		edges, term := c.state(st, sp)
		out[name] = append(out[name], edges...)
		terminal = terminal || term
	}

	for _, name := range order {
		for _, e := range out[name] {
			if !local[e.target] {
				// Deferred until every States object is known, so the message
				// can say when the target lives in another branch.
				c.deferred = append(c.deferred, func() {
					msg := "no state named %q in this States object"
					if elsewhere, ok := c.names[e.target]; ok {
						msg += "; the state at " + elsewhere + " is outside it, and a transition may not leave its branch"
					}
					c.add(e.field, e.pointer, "next-target-missing", msg, e.target)
				})
			}
		}
	}
	if hasStart && !local[startAt] {
		c.add(m.get("StartAt"), base+"/StartAt", "start-at-target-missing", "StartAt names %q, which is not a state of States", startAt)
	}
	if hasStart && local[startAt] {
		reached := map[string]bool{startAt: true}
		queue := []string{startAt}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, e := range out[cur] {
				if local[e.target] && !reached[e.target] {
					reached[e.target] = true
					queue = append(queue, e.target)
				}
			}
		}
		for _, name := range order {
			if !reached[name] {
				c.add(states.get(name), ptr(statesPtr, name), "state-unreachable", "no transition from StartAt %q reaches state %q", startAt, name)
			}
		}
	}
	if len(states.members) > 0 && !terminal {
		c.add(states, statesPtr, "no-terminal-state", "no state ends the execution (a Succeed or Fail state, or End: true)")
	}
}

// state checks one state and returns its transitions and whether it is a
// terminal state.
func (c *checker) state(st *node, sp string) ([]edge, bool) {
	if st.kind != kindObject {
		c.add(st, sp, "field-type", "a state must be an object, not %s", st.kind)
		return nil, false
	}
	tn := st.get("Type")
	if tn == nil {
		c.add(st, sp, "field-required", "a state needs a Type")
		return nil, false
	}
	if tn.kind != kindString {
		c.add(tn, sp+"/Type", "field-type", "Type must be a string, not %s", tn.kind)
		return nil, false
	}
	typ := tn.str
	fields, ok := stateFields[typ]
	if !ok {
		c.add(tn, sp+"/Type", "state-type-invalid", "Type %q is not one of %s", typ, strings.Join(stateTypes, ", "))
		return nil, false
	}
	for _, m := range st.members {
		if !fields[m.key] {
			c.add(m.val, ptr(sp, m.key), "field-not-allowed", "%s", notAllowedMessage(typ, m.key))
		}
	}
	c.stringField(st, sp, "Comment")
	c.queryLanguage(st, sp)

	var edges []edge
	terminal := typ == "Succeed" || typ == "Fail"
	if fields["Next"] {
		next, end := st.get("Next"), st.get("End")
		endTrue := false
		if end != nil {
			if end.kind != kindBool {
				c.add(end, sp+"/End", "field-type", "End must be a boolean, not %s", end.kind)
			} else {
				endTrue = end.b
			}
		}
		terminal = endTrue
		switch {
		case next != nil && endTrue:
			c.add(st, sp, "next-and-end", "a state cannot have both Next and End: true")
		case next == nil && !endTrue:
			c.add(st, sp, "next-or-end-missing", "a %s state needs Next or End: true", typ)
		}
		if s, ok := c.stringField(st, sp, "Next"); ok {
			edges = append(edges, edge{pointer: sp + "/Next", field: next, target: s})
		}
	}
	if fields["InputPath"] {
		c.path(st, sp, "InputPath")
		c.path(st, sp, "OutputPath")
	}
	if fields["ResultPath"] {
		c.resultPath(st, sp)
	}
	for _, f := range []string{"Parameters", "ResultSelector", "Assign"} {
		if fields[f] {
			c.template(st, sp, f)
		}
	}
	if fields["Retry"] {
		c.retry(st, sp)
		edges = append(edges, c.catch(st, sp)...)
	}

	switch typ {
	case "Task":
		c.task(st, sp)
	case "Choice":
		edges = append(edges, c.choice(st, sp)...)
	case "Wait":
		c.wait(st, sp)
	case "Fail":
		c.fail(st, sp)
	case "Parallel":
		c.parallel(st, sp)
	case "Map":
		c.mapState(st, sp)
	}
	return edges, terminal
}

func notAllowedMessage(typ, field string) string {
	switch {
	case field == "HeartbeatSeconds" || field == "HeartbeatSecondsPath" || field == "Resource":
		return field + " is only allowed in a Task state, not in a " + typ + " state"
	case (field == "Next" || field == "End") && (typ == "Succeed" || typ == "Fail"):
		return "a " + typ + " state is terminal and cannot have " + field
	case (field == "Next" || field == "End") && typ == "Choice":
		return "a Choice state cannot have " + field + "; its rules and Default choose the next state"
	}
	for _, t := range stateTypes {
		if stateFields[t][field] {
			return "a " + typ + " state cannot have " + field
		}
	}
	return field + " is not a field of any state type"
}

func (c *checker) task(st *node, sp string) {
	if st.get("Resource") == nil {
		c.add(st, sp, "field-required", "a Task state needs Resource")
	}
	c.arnField(st, sp, "Resource")
	timeout, tok := c.intField(st, sp, "TimeoutSeconds", 1, maxSeconds)
	heartbeat, hok := c.intField(st, sp, "HeartbeatSeconds", 1, maxSeconds)
	if tok && hok && heartbeat >= timeout {
		c.add(st.get("HeartbeatSeconds"), sp+"/HeartbeatSeconds", "heartbeat-not-below-timeout",
			"HeartbeatSeconds (%d) must be smaller than TimeoutSeconds (%d)", heartbeat, timeout)
	}
	for _, f := range []string{"TimeoutSeconds", "HeartbeatSeconds"} {
		c.refPath(st, sp, f+"Path")
		c.exclusive(st, sp, f, f+"Path")
	}
	if cr := st.get("Credentials"); cr != nil && cr.kind != kindObject {
		c.add(cr, sp+"/Credentials", "field-type", "Credentials must be an object, not %s", cr.kind)
	}
	c.template(st, sp, "Credentials")
}

func (c *checker) wait(st *node, sp string) {
	var present []string
	for _, f := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if st.has(f) {
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		c.add(st, sp, "field-required", "a Wait state needs one of Seconds, SecondsPath, Timestamp or TimestampPath")
	}
	for _, f := range present[min(1, len(present)):] {
		c.add(st.get(f), ptr(sp, f), "fields-exclusive", "a Wait state takes only one of Seconds, SecondsPath, Timestamp, TimestampPath; it already has %s", present[0])
	}
	c.intField(st, sp, "Seconds", 0, maxSeconds)
	c.timestampField(st, sp, "Timestamp")
	c.refPath(st, sp, "SecondsPath")
	c.refPath(st, sp, "TimestampPath")
}

func (c *checker) fail(st *node, sp string) {
	for _, f := range []string{"Error", "Cause"} {
		c.stringField(st, sp, f)
		c.exclusive(st, sp, f, f+"Path")
		// ErrorPath and CausePath take a reference path or an intrinsic
		// function (amazon-states-language-fail-state.html).
		p := st.get(f + "Path")
		if p == nil {
			continue
		}
		s, ok := c.stringField(st, sp, f+"Path")
		if !ok || isPlaceholder(s) {
			continue
		}
		if intrinsic.LooksLikeCall(s) {
			if _, err := intrinsic.Parse(s); err != nil {
				c.add(p, sp+"/"+f+"Path", "intrinsic-invalid", "%v", err)
			}
			continue
		}
		if _, err := jsonpath.ParseReference(s); err != nil {
			c.add(p, sp+"/"+f+"Path", "reference-path-invalid", "%s must be a reference path or an intrinsic function: %v", f+"Path", err)
		}
	}
}

func (c *checker) parallel(st *node, sp string) {
	b := st.get("Branches")
	switch {
	case b == nil:
		c.add(st, sp, "field-required", "a Parallel state needs Branches")
	case b.kind != kindArray:
		c.add(b, sp+"/Branches", "field-type", "Branches must be an array, not %s", b.kind)
	case len(b.arr) == 0:
		c.add(b, sp+"/Branches", "branches-empty", "a Parallel state needs at least one branch")
	default:
		for i, br := range b.arr {
			bp := ptr(sp+"/Branches", i)
			if br.kind != kindObject {
				c.add(br, bp, "field-type", "a branch must be an object, not %s", br.kind)
				continue
			}
			c.machine(br, bp, branchFields, "a Parallel branch")
		}
	}
}

// mapState checks a Map state, inline or distributed
// (amazon-states-language-map-state.html, state-map-inline.html,
// state-map-distributed.html).
func (c *checker) mapState(st *node, sp string) {
	ip, it := st.get("ItemProcessor"), st.get("Iterator")
	switch {
	case ip == nil && it == nil:
		c.add(st, sp, "field-required", "a Map state needs ItemProcessor (or the legacy Iterator)")
	case ip != nil && it != nil:
		c.add(it, sp+"/Iterator", "fields-exclusive", "a Map state has either ItemProcessor or the legacy Iterator, not both")
	}
	mode := "INLINE"
	if ip != nil {
		pp := sp + "/ItemProcessor"
		if ip.kind != kindObject {
			c.add(ip, pp, "field-type", "ItemProcessor must be an object, not %s", ip.kind)
		} else {
			if pc := ip.get("ProcessorConfig"); pc != nil {
				mode = c.processorConfig(pc, pp+"/ProcessorConfig")
			}
			c.machine(ip, pp, processorFields, "an ItemProcessor")
		}
	}
	if it != nil {
		if it.kind != kindObject {
			c.add(it, sp+"/Iterator", "field-type", "Iterator must be an object, not %s", it.kind)
		} else {
			c.machine(it, sp+"/Iterator", processorFields, "an Iterator")
		}
	}
	if mode != "DISTRIBUTED" {
		for _, f := range []string{"ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage",
			"ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"} {
			if n := st.get(f); n != nil {
				c.add(n, ptr(sp, f), "distributed-only", "%s is only allowed in a Map state whose ProcessorConfig Mode is DISTRIBUTED", f)
			}
		}
	}
	c.exclusive(st, sp, "Parameters", "ItemSelector")
	c.template(st, sp, "ItemSelector")
	c.refPath(st, sp, "ItemsPath")
	c.intField(st, sp, "MaxConcurrency", 0, math.MaxInt32)
	c.numberField(st, sp, "ToleratedFailurePercentage", 0, 100)
	c.intField(st, sp, "ToleratedFailureCount", 0, math.MaxInt64)
	for _, f := range []string{"MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount"} {
		c.refPath(st, sp, f+"Path")
		c.exclusive(st, sp, f, f+"Path")
	}
	if s, ok := c.stringField(st, sp, "Label"); ok && !isPlaceholder(s) {
		if msg := labelProblem(s); msg != "" {
			c.add(st.get("Label"), sp+"/Label", "label-invalid", "%s", msg)
		}
	}
	if r := c.object(st, sp, "ItemReader"); r != nil {
		rp := sp + "/ItemReader"
		c.allowed(r, rp, set("Resource", "Parameters", "ReaderConfig"), "ItemReader")
		if r.get("Resource") == nil {
			c.add(r, rp, "field-required", "ItemReader needs Resource")
		}
		c.arnField(r, rp, "Resource")
		c.template(r, rp, "Parameters")
		if rc := c.object(r, rp, "ReaderConfig"); rc != nil {
			cp := rp + "/ReaderConfig"
			c.allowed(rc, cp, set("InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath", "ManifestType"), "ReaderConfig")
			c.enumField(rc, cp, "InputType", "CSV", "JSON", "JSONL", "MANIFEST", "PARQUET")
			c.enumField(rc, cp, "CSVHeaderLocation", "FIRST_ROW", "GIVEN")
			c.enumField(rc, cp, "CSVDelimiter", "COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB")
			c.enumField(rc, cp, "ManifestType", "ATHENA_DATA", "S3_INVENTORY")
			if loc, _ := c.stringField(rc, cp, "CSVHeaderLocation"); loc == "GIVEN" && rc.get("CSVHeaders") == nil {
				c.add(rc, cp, "field-required", "CSVHeaderLocation GIVEN needs CSVHeaders")
			}
			if h := rc.get("CSVHeaders"); h != nil {
				c.stringArray(h, cp+"/CSVHeaders")
			}
			c.intField(rc, cp, "MaxItems", 0, 100000000)
			c.refPath(rc, cp, "MaxItemsPath")
			c.exclusive(rc, cp, "MaxItems", "MaxItemsPath")
		}
	}
	if b := c.object(st, sp, "ItemBatcher"); b != nil {
		bp := sp + "/ItemBatcher"
		c.allowed(b, bp, set("MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", "BatchInput"), "ItemBatcher")
		c.intField(b, bp, "MaxItemsPerBatch", 1, math.MaxInt32)
		// 256 KiB is the payload limit a batch must fit in (state-map-distributed.html, ItemBatcher).
		c.intField(b, bp, "MaxInputBytesPerBatch", 1, 262144)
		for _, f := range []string{"MaxItemsPerBatch", "MaxInputBytesPerBatch"} {
			c.refPath(b, bp, f+"Path")
			c.exclusive(b, bp, f, f+"Path")
		}
		c.template(b, bp, "BatchInput")
	}
	if w := c.object(st, sp, "ResultWriter"); w != nil {
		wp := sp + "/ResultWriter"
		c.allowed(w, wp, set("Resource", "Parameters", "WriterConfig"), "ResultWriter")
		c.arnField(w, wp, "Resource")
		c.template(w, wp, "Parameters")
		// WriterConfig (input-output-resultwriter.html): output format of the results.
		if wc := c.object(w, wp, "WriterConfig"); wc != nil {
			cp := wp + "/WriterConfig"
			c.allowed(wc, cp, set("OutputType", "Transformation"), "WriterConfig")
			c.enumField(wc, cp, "OutputType", "JSON", "JSONL")
			c.enumField(wc, cp, "Transformation", "NONE", "COMPACT", "FLATTEN")
		}
		if w.get("Resource") == nil && w.get("WriterConfig") == nil {
			c.add(w, wp, "field-required", "ResultWriter needs Resource (with Parameters) or WriterConfig")
		}
	}
}

// processorConfig checks ItemProcessor.ProcessorConfig and returns its Mode.
func (c *checker) processorConfig(pc *node, pp string) string {
	if pc.kind != kindObject {
		c.add(pc, pp, "field-type", "ProcessorConfig must be an object, not %s", pc.kind)
		return "INLINE"
	}
	c.allowed(pc, pp, set("Mode", "ExecutionType"), "ProcessorConfig")
	c.enumField(pc, pp, "Mode", "INLINE", "DISTRIBUTED")
	c.enumField(pc, pp, "ExecutionType", "STANDARD", "EXPRESS")
	mode, _ := c.stringField(pc, pp, "Mode")
	if mode == "DISTRIBUTED" {
		if pc.get("ExecutionType") == nil {
			c.add(pc, pp, "field-required", "a DISTRIBUTED ProcessorConfig needs ExecutionType (STANDARD or EXPRESS)")
		}
		return mode
	}
	if et := pc.get("ExecutionType"); et != nil {
		c.add(et, pp+"/ExecutionType", "distributed-only", "ExecutionType is only allowed with Mode DISTRIBUTED")
	}
	return "INLINE"
}

// labelProblem checks a distributed Map Label (state-map-distributed.html:
// up to 40 characters, none of the characters a name must not contain).
func labelProblem(s string) string {
	if n := utf8.RuneCountInString(s); n > 40 {
		return "Label has " + strconv.Itoa(n) + " characters; at most 40 are allowed"
	}
	if s == "" {
		return "Label must not be empty"
	}
	for _, r := range s {
		if r <= 0x20 || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return "Label must not contain " + strconv.QuoteRune(r)
		}
	}
	return ""
}

func (c *checker) retry(st *node, sp string) {
	arr := c.array(st, sp, "Retry")
	for i, r := range arr {
		rp := ptr(sp+"/Retry", i)
		if r.kind != kindObject {
			c.add(r, rp, "field-type", "a retrier must be an object, not %s", r.kind)
			continue
		}
		c.allowed(r, rp, retrierFields, "a retrier")
		c.errorEquals(r, rp, i == len(arr)-1, "retrier")
		c.stringField(r, rp, "Comment")
		c.intField(r, rp, "IntervalSeconds", 1, maxSeconds)
		c.intField(r, rp, "MaxAttempts", 0, maxSeconds)
		c.intField(r, rp, "MaxDelaySeconds", 1, maxDelaySeconds)
		c.numberField(r, rp, "BackoffRate", 1, math.Inf(1))
		c.enumField(r, rp, "JitterStrategy", "FULL", "NONE")
	}
}

func (c *checker) catch(st *node, sp string) []edge {
	arr := c.array(st, sp, "Catch")
	var edges []edge
	for i, r := range arr {
		rp := ptr(sp+"/Catch", i)
		if r.kind != kindObject {
			c.add(r, rp, "field-type", "a catcher must be an object, not %s", r.kind)
			continue
		}
		c.allowed(r, rp, catcherFields, "a catcher")
		c.errorEquals(r, rp, i == len(arr)-1, "catcher")
		c.stringField(r, rp, "Comment")
		if r.get("Next") == nil {
			c.add(r, rp, "field-required", "a catcher needs Next")
		}
		if s, ok := c.stringField(r, rp, "Next"); ok {
			edges = append(edges, edge{pointer: rp + "/Next", field: r.get("Next"), target: s})
		}
		c.resultPath(r, rp)
		c.template(r, rp, "Assign")
	}
	return edges
}

func (c *checker) errorEquals(r *node, rp string, last bool, what string) {
	ee := r.get("ErrorEquals")
	ep := rp + "/ErrorEquals"
	switch {
	case ee == nil:
		c.add(r, rp, "field-required", "a %s needs ErrorEquals", what)
		return
	case ee.kind != kindArray:
		c.add(ee, ep, "field-type", "ErrorEquals must be an array of error names, not %s", ee.kind)
		return
	case len(ee.arr) == 0:
		c.add(ee, ep, "error-equals-empty", "ErrorEquals needs at least one error name")
		return
	}
	for j, e := range ee.arr {
		if e.kind != kindString {
			c.add(e, ptr(ep, j), "field-type", "an error name must be a string, not %s", e.kind)
			continue
		}
		if e.str != "States.ALL" {
			continue
		}
		if len(ee.arr) > 1 {
			c.add(e, ptr(ep, j), "states-all-not-alone", "States.ALL must be the only error name in its ErrorEquals")
		}
		if !last {
			c.add(r, rp, "states-all-not-last", "a %s matching States.ALL must be the last one", what)
		}
	}
}

func (c *checker) choice(st *node, sp string) []edge {
	var edges []edge
	ch := st.get("Choices")
	switch {
	case ch == nil:
		c.add(st, sp, "field-required", "a Choice state needs Choices")
	case ch.kind != kindArray:
		c.add(ch, sp+"/Choices", "field-type", "Choices must be an array, not %s", ch.kind)
	case len(ch.arr) == 0:
		c.add(ch, sp+"/Choices", "choices-empty", "a Choice state needs at least one rule")
	default:
		for i, r := range ch.arr {
			edges = append(edges, c.choiceRule(r, ptr(sp+"/Choices", i), true)...)
		}
	}
	if s, ok := c.stringField(st, sp, "Default"); ok {
		edges = append(edges, edge{pointer: sp + "/Default", field: st.get("Default"), target: s})
	}
	return edges
}

// choiceRule checks one Choice rule; top is false inside And, Or and Not
// (amazon-states-language-choice-state.html).
func (c *checker) choiceRule(r *node, rp string, top bool) []edge {
	if r.kind != kindObject {
		c.add(r, rp, "field-type", "a Choice rule must be an object, not %s", r.kind)
		return nil
	}
	var ops []member
	for _, m := range r.members {
		mp := ptr(rp, m.key)
		switch {
		case m.key == "And" || m.key == "Or" || m.key == "Not" || operandKinds[m.key] != "":
			ops = append(ops, m)
		case m.key == "Variable" || m.key == "Comment":
		case m.key == "Next" || m.key == "Assign":
			if !top {
				rule := "field-not-allowed"
				if m.key == "Next" {
					rule = "choice-nested-next"
				}
				c.add(m.val, mp, rule, "a rule inside And, Or or Not cannot have %s", m.key)
			}
		default:
			c.add(m.val, mp, "field-not-allowed", "%s is not a Choice rule field", m.key)
		}
	}
	c.stringField(r, rp, "Comment")
	var edges []edge
	if top {
		if r.get("Next") == nil {
			c.add(r, rp, "choice-rule-next-missing", "a top-level Choice rule needs Next")
		} else if s, ok := c.stringField(r, rp, "Next"); ok {
			edges = append(edges, edge{pointer: rp + "/Next", field: r.get("Next"), target: s})
		}
		c.template(r, rp, "Assign")
	}
	if len(ops) == 0 {
		c.add(r, rp, "choice-operator-missing", "a Choice rule needs a comparison operator or And, Or, Not")
		return edges
	}
	for _, m := range ops[1:] {
		c.add(m.val, ptr(rp, m.key), "choice-operator-multiple", "a Choice rule takes exactly one operator; it already has %s", ops[0].key)
	}
	comparison := false
	for _, m := range ops {
		mp := ptr(rp, m.key)
		switch m.key {
		case "And", "Or":
			switch {
			case m.val.kind != kindArray:
				c.add(m.val, mp, "field-type", "%s must be an array of rules, not %s", m.key, m.val.kind)
			case len(m.val.arr) == 0:
				c.add(m.val, mp, "choice-rule-empty", "%s needs at least one rule", m.key)
			default:
				for i, sub := range m.val.arr {
					edges = append(edges, c.choiceRule(sub, ptr(mp, i), false)...)
				}
			}
		case "Not":
			edges = append(edges, c.choiceRule(m.val, mp, false)...)
		default:
			comparison = true
			c.operand(m, mp)
		}
	}
	v := r.get("Variable")
	switch {
	case comparison && v == nil:
		c.add(r, rp, "field-required", "a comparison rule needs Variable")
	case !comparison && v != nil:
		c.add(v, rp+"/Variable", "field-not-allowed", "And, Or and Not rules cannot have Variable")
	case v != nil:
		c.refPath(r, rp, "Variable")
	}
	return edges
}

func (c *checker) operand(m member, mp string) {
	want := operandKinds[m.key]
	v := m.val
	bad := func(what string) {
		c.add(v, mp, "choice-operand-type", "%s compares with %s, not %s", m.key, what, describe(v))
	}
	switch want {
	case "string":
		if v.kind != kindString {
			bad("a string")
		}
	case "number":
		if v.kind != kindNumber {
			bad("a number")
		}
	case "boolean":
		if v.kind != kindBool {
			bad("a boolean")
		}
	case "timestamp":
		if v.kind != kindString {
			bad("a timestamp string")
		} else if !isPlaceholder(v.str) {
			if msg := timestampProblem(v.str); msg != "" {
				c.add(v, mp, "timestamp-invalid", "%s: %s", m.key, msg)
			}
		}
	case "path":
		if v.kind != kindString {
			bad("the value at a reference path (a string)")
		} else if !isPlaceholder(v.str) {
			if _, err := jsonpath.ParseReference(v.str); err != nil {
				c.add(v, mp, "reference-path-invalid", "%s must be a reference path: %v", m.key, err)
			}
		}
	}
}

func describe(n *node) string {
	if n.kind == kindString {
		return "the string " + strconv.Quote(n.str)
	}
	if n.kind == kindNumber {
		return "the number " + string(n.num)
	}
	return n.kind.String()
}

// --- field helpers ---

// allowed reports members of obj that are not in fields.
func (c *checker) allowed(obj *node, base string, fields map[string]bool, what string) {
	var unknown []member
	for _, m := range obj.members {
		if !fields[m.key] {
			unknown = append(unknown, m)
		}
	}
	if len(unknown) == 0 {
		return
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, m := range unknown {
		c.add(m.val, ptr(base, m.key), "field-not-allowed", "%s is not a field of %s (allowed: %s)", m.key, what, strings.Join(names, ", "))
	}
}

// stringField returns obj[field] when it is a string, and reports it when it
// is present with another type.
func (c *checker) stringField(obj *node, base, field string) (string, bool) {
	n := obj.get(field)
	if n == nil {
		return "", false
	}
	if n.kind != kindString {
		c.add(n, ptr(base, field), "field-type", "%s must be a string, not %s", field, n.kind)
		return "", false
	}
	return n.str, true
}

func (c *checker) object(obj *node, base, field string) *node {
	n := obj.get(field)
	if n == nil {
		return nil
	}
	if n.kind != kindObject {
		c.add(n, ptr(base, field), "field-type", "%s must be an object, not %s", field, n.kind)
		return nil
	}
	return n
}

func (c *checker) array(obj *node, base, field string) []*node {
	n := obj.get(field)
	if n == nil {
		return nil
	}
	if n.kind != kindArray {
		c.add(n, ptr(base, field), "field-type", "%s must be an array, not %s", field, n.kind)
		return nil
	}
	return n.arr
}

func (c *checker) stringArray(n *node, p string) {
	if n.kind != kindArray {
		c.add(n, p, "field-type", "must be an array of strings, not %s", n.kind)
		return
	}
	for i, el := range n.arr {
		if el.kind != kindString {
			c.add(el, ptr(p, i), "field-type", "must be a string, not %s", el.kind)
		}
	}
}

// intField checks that obj[field], when present, is an integer in [lo, hi].
func (c *checker) intField(obj *node, base, field string, lo, hi float64) (int64, bool) {
	n := obj.get(field)
	if n == nil {
		return 0, false
	}
	p := ptr(base, field)
	if n.kind != kindNumber {
		c.add(n, p, "field-type", "%s must be an integer, not %s", field, n.kind)
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n.num), 64)
	if err == nil && f != math.Trunc(f) {
		c.add(n, p, "field-type", "%s must be an integer, not %s", field, n.num)
		return 0, false
	}
	if err != nil || f < lo || f > hi {
		c.add(n, p, "out-of-range", "%s is %s; it must be %s", field, n.num, rangeText(lo, hi))
		return 0, false
	}
	return int64(f), true
}

// numberField checks that obj[field], when present, is a number in [lo, hi].
func (c *checker) numberField(obj *node, base, field string, lo, hi float64) {
	n := obj.get(field)
	if n == nil {
		return
	}
	p := ptr(base, field)
	if n.kind != kindNumber {
		c.add(n, p, "field-type", "%s must be a number, not %s", field, n.kind)
		return
	}
	f, err := strconv.ParseFloat(string(n.num), 64)
	if err != nil || f < lo || f > hi {
		c.add(n, p, "out-of-range", "%s is %s; it must be %s", field, n.num, rangeText(lo, hi))
	}
}

func rangeText(lo, hi float64) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	if math.IsInf(hi, 1) || hi >= math.MaxInt32 {
		return "at least " + f(lo)
	}
	return "between " + f(lo) + " and " + f(hi)
}

func (c *checker) enumField(obj *node, base, field string, values ...string) {
	s, ok := c.stringField(obj, base, field)
	if !ok || isPlaceholder(s) {
		return
	}
	for _, v := range values {
		if s == v {
			return
		}
	}
	c.add(obj.get(field), ptr(base, field), "enum", "%s is %q; it must be one of %s", field, s, strings.Join(values, ", "))
}

func (c *checker) exclusive(obj *node, base, a, b string) {
	if obj.has(a) && obj.has(b) {
		c.add(obj.get(b), ptr(base, b), "fields-exclusive", "%s and %s cannot be used together", a, b)
	}
}

func (c *checker) arnField(obj *node, base, field string) {
	s, ok := c.stringField(obj, base, field)
	if !ok || isPlaceholder(s) {
		return
	}
	if !arnRE.MatchString(s) {
		c.add(obj.get(field), ptr(base, field), "resource-invalid", "%s %q is not an ARN (arn:partition:service:region:account:resource)", field, s)
	}
}

func (c *checker) queryLanguage(obj *node, base string) {
	s, ok := c.stringField(obj, base, "QueryLanguage")
	if ok && s != "JSONPath" && !isPlaceholder(s) {
		c.add(obj.get("QueryLanguage"), base+"/QueryLanguage", "query-language-unsupported", "QueryLanguage %q is not supported; only \"JSONPath\" is", s)
	}
}

// path checks a nullable Path field (InputPath, OutputPath).
func (c *checker) path(obj *node, base, field string) {
	n := obj.get(field)
	if n == nil || n.kind == kindNull {
		return
	}
	s, ok := c.stringField(obj, base, field)
	if !ok || isPlaceholder(s) {
		return
	}
	if _, err := jsonpath.Parse(s); err != nil {
		c.add(n, ptr(base, field), "path-invalid", "%s must be a path: %v", field, err)
	}
}

// resultPath checks ResultPath: null, or a reference path into the state
// output, never the context object (input-output-resultpath.html).
func (c *checker) resultPath(obj *node, base string) {
	n := obj.get("ResultPath")
	if n == nil || n.kind == kindNull {
		return
	}
	s, ok := c.stringField(obj, base, "ResultPath")
	if !ok || isPlaceholder(s) {
		return
	}
	if jsonpath.IsContextPath(s) {
		c.add(n, base+"/ResultPath", "reference-path-invalid", "ResultPath cannot write into the context object (%q)", s)
		return
	}
	if _, err := jsonpath.ParseReference(s); err != nil {
		c.add(n, base+"/ResultPath", "reference-path-invalid", "ResultPath must be a reference path: %v", err)
	}
}

// refPath checks a non-null reference path field (ItemsPath, Variable, the
// ...Path twins of numeric and timestamp fields).
func (c *checker) refPath(obj *node, base, field string) {
	n := obj.get(field)
	if n == nil {
		return
	}
	s, ok := c.stringField(obj, base, field)
	if !ok || isPlaceholder(s) {
		return
	}
	if _, err := jsonpath.ParseReference(s); err != nil {
		c.add(n, ptr(base, field), "reference-path-invalid", "%s must be a reference path: %v", field, err)
	}
}

// template checks a payload template (Parameters, ResultSelector,
// ItemSelector, Assign, ...): every ".$" key must hold a path or a valid
// intrinsic call.
func (c *checker) template(obj *node, base, field string) {
	n := obj.get(field)
	if n == nil {
		return
	}
	fp := ptr(base, field)
	for _, p := range payload.Check(n.plain()) {
		if hasPlaceholderAt(n, p.Pointer) {
			continue
		}
		c.add(nodeAt(n, p.Pointer), fp+p.Pointer, "payload-invalid", "%s", p.Message)
	}
}

func (c *checker) timestampField(obj *node, base, field string) {
	s, ok := c.stringField(obj, base, field)
	if !ok || isPlaceholder(s) {
		return
	}
	if msg := timestampProblem(s); msg != "" {
		c.add(obj.get(field), ptr(base, field), "timestamp-invalid", "%s: %s", field, msg)
	}
}

// timestampProblem checks the RFC 3339 profile Step Functions accepts:
// uppercase T, and Z or a numeric offset (amazon-states-language-wait-state.html,
// "Timestamp"; amazon-states-language-choice-state.html).
func timestampProblem(s string) string {
	if !timestampRE.MatchString(s) {
		return strconv.Quote(s) + " is not an RFC 3339 timestamp like 2016-03-14T01:59:00Z (uppercase T, Z or an offset such as +01:00)"
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return strconv.Quote(s) + " is not a valid date and time: " + err.Error()
	}
	return ""
}

// nodeAt resolves a pointer relative to n (for offsets); it returns the
// deepest node that exists.
func nodeAt(n *node, pointer string) *node {
	if pointer == "" {
		return n
	}
	cur := n
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next *node
		switch cur.kind {
		case kindObject:
			next = cur.get(tok)
		case kindArray:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(cur.arr) {
				next = cur.arr[i]
			}
		}
		if next == nil {
			return cur
		}
		cur = next
	}
	return cur
}

// hasPlaceholderAt reports whether the value a template problem is about is
// a string holding a Terraform placeholder, which is opaque until deployment.
func hasPlaceholderAt(n *node, pointer string) bool {
	v := nodeAt(n, pointer)
	return v.kind == kindString && isPlaceholder(v.str)
}
