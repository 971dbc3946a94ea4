package asl

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/serverless-elt/elt/asl/intrinsic"
)

// MaxStateNameLength is the longest state name AWS accepts.
const MaxStateNameLength = 80

// StateBuilder is implemented by the builders of every state type (Task,
// Pass, Choice, Wait, Succeed, Fail, Parallel, Map).
type StateBuilder interface {
	// State returns the state being built (shared, not a copy).
	State() *State
	problems() []error
}

// core is the part every state builder shares: the state and the mistakes
// recorded while building it (reported by Build, all at once).
type core struct {
	st   *State
	errs []error
}

func newCore(name, typ string) *core { return &core{st: &State{Name: name, Type: typ}} }

func (c *core) State() *State      { return c.st }
func (c *core) problems() []error  { return c.errs }
func (c *core) fail(err error)     { c.errs = append(c.errs, err) }
func (c *core) value(x any) *Value { return c.toValue(x) }

func (c *core) toValue(x any) *Value {
	v, err := ValueOf(x)
	if err != nil {
		c.fail(err)
		return nil
	}
	return &v
}

// Machine builds a StateMachine. Create one with New.
type Machine struct {
	sm     StateMachine
	states []StateBuilder
}

// New starts a state machine with a comment.
func New(comment string) *Machine { return &Machine{sm: StateMachine{Comment: comment}} }

// StartAt names the first state; by default it is the first state added.
func (m *Machine) StartAt(name string) *Machine { m.sm.StartAt = name; return m }

// TimeoutSeconds limits an execution's run time.
func (m *Machine) TimeoutSeconds(n int) *Machine { m.sm.TimeoutSeconds = &n; return m }

// Version sets the ASL version ("1.0").
func (m *Machine) Version(v string) *Machine { m.sm.Version = v; return m }

// States appends states in definition order.
func (m *Machine) States(states ...StateBuilder) *Machine {
	m.states = append(m.states, states...)
	return m
}

// Build assembles the machine and checks what a builder can check: unique
// non-empty state names of at most 80 characters, StartAt/Next/Default/Catch
// targets inside their own scope, Next or End on every non-terminal state,
// intrinsic function names and arity in every ".$" value, RFC 3339
// timestamps. It returns every problem found, joined. Full validation
// (reachability, field rules, the schema) is package asl/validate's job.
func (m *Machine) Build() (*StateMachine, error) {
	var errs []error
	sm := m.sm
	states, startAt := assemble("States", m.states, sm.StartAt, &errs)
	sm.States, sm.StartAt = states, startAt
	if len(errs) > 0 {
		return nil, fmt.Errorf("build state machine %q: %w", sm.Comment, errors.Join(errs...))
	}
	// Encode and parse again: the result shares nothing with the builders
	// (which may be reused) and is guaranteed to round-trip.
	data, err := Encode(&sm)
	if err != nil {
		return nil, fmt.Errorf("build state machine %q: %w", sm.Comment, err)
	}
	return Parse(data)
}

// MustBuild is Build for workflow constructors whose definitions are fixed
// in source and covered by tests: it panics on a build error.
func (m *Machine) MustBuild() *StateMachine {
	sm, err := m.Build()
	if err != nil {
		panic(err)
	}
	return sm
}

// assemble builds one scope (the top level, a branch, an item processor).
func assemble(where string, builders []StateBuilder, startAt string, errs *[]error) (States, string) {
	add := func(format string, args ...any) {
		*errs = append(*errs, fmt.Errorf(where+": "+format, args...))
	}
	if len(builders) == 0 {
		add("no states")
		return States{}, startAt
	}
	var states States
	for _, b := range builders {
		st := b.State()
		for _, err := range b.problems() {
			add("%s: %v", st.Name, err)
		}
		if len(st.Name) > MaxStateNameLength {
			add("state name %q is longer than %d characters", st.Name, MaxStateNameLength)
		}
		if err := states.add(st); err != nil {
			add("%v", err)
		}
	}
	if startAt == "" {
		startAt = builders[0].State().Name
	}
	if states.Get(startAt) == nil {
		add("StartAt %q is not a state", startAt)
	}
	for name, st := range states.All() {
		checkState(where+"."+name, st, states, errs)
	}
	return states, startAt
}

func checkState(where string, st *State, scope States, errs *[]error) {
	add := func(format string, args ...any) {
		*errs = append(*errs, fmt.Errorf(where+": "+format, args...))
	}
	target := func(field, name string) {
		if name != "" && scope.Get(name) == nil {
			add("%s %q is not a state in this scope", field, name)
		}
	}
	target("Next", st.Next)
	target("Default", st.Default)
	for i, c := range st.Catch {
		target(fmt.Sprintf("Catch[%d].Next", i), c.Next)
	}
	for i, c := range st.Choices {
		if c.Next == "" {
			add("Choices[%d] has no Next", i)
		}
		target(fmt.Sprintf("Choices[%d].Next", i), c.Next)
		checkRule(fmt.Sprintf("Choices[%d]", i), &c, add)
	}
	switch st.Type {
	case TypeChoice, TypeSucceed, TypeFail:
	default:
		switch {
		case st.Next == "" && !st.End:
			add("needs Next or End")
		case st.Next != "" && st.End:
			add("has both Next and End")
		}
	}
	if st.Timestamp != "" {
		checkTimestamp("Timestamp", st.Timestamp, add)
	}
	for _, tv := range []struct {
		field string
		v     *Value
	}{
		{"Parameters", st.Parameters}, {"ResultSelector", st.ResultSelector}, {"ItemSelector", st.ItemSelector},
		{"Credentials", st.Credentials}, {"Assign", st.Assign},
	} {
		checkTemplate(tv.field, tv.v, add)
	}
	if st.ItemReader != nil {
		checkTemplate("ItemReader.Parameters", st.ItemReader.Parameters, add)
	}
	if st.ItemBatcher != nil {
		checkTemplate("ItemBatcher.BatchInput", st.ItemBatcher.BatchInput, add)
	}
	if st.ResultWriter != nil {
		checkTemplate("ResultWriter.Parameters", st.ResultWriter.Parameters, add)
	}
}

func checkRule(where string, r *ChoiceRule, add func(string, ...any)) {
	for i := range r.And {
		checkRule(fmt.Sprintf("%s.And[%d]", where, i), &r.And[i], add)
	}
	for i := range r.Or {
		checkRule(fmt.Sprintf("%s.Or[%d]", where, i), &r.Or[i], add)
	}
	if r.Not != nil {
		checkRule(where+".Not", r.Not, add)
	}
	if op, v, ok := r.Comparison(); ok && strings.HasPrefix(op, "Timestamp") && !strings.HasSuffix(op, "Path") {
		checkTimestamp(where+"."+op, v.(string), add)
	}
}

func checkTimestamp(field, ts string, add func(string, ...any)) {
	if strings.Contains(ts, "${") {
		return // a deployment-time placeholder
	}
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		add("%s %q is not an RFC 3339 timestamp", field, ts)
	}
}

// checkTemplate parses every intrinsic call in a ".$" member of a payload
// template, so a wrong function name or argument count fails at Build.
func checkTemplate(field string, v *Value, add func(string, ...any)) {
	if v == nil {
		return
	}
	var walk func(at string, v Value)
	walk = func(at string, v Value) {
		switch v.Kind {
		case KindObject:
			for _, m := range v.Fields {
				if strings.HasSuffix(m.Key, ".$") && m.Value.Kind == KindString && intrinsic.LooksLikeCall(m.Value.Str) {
					if _, err := intrinsic.Parse(m.Value.Str); err != nil {
						add("%s.%s: %v", at, m.Key, err)
					}
				}
				walk(at+"."+m.Key, m.Value)
			}
		case KindArray:
			for i, it := range v.Items {
				walk(fmt.Sprintf("%s[%d]", at, i), it)
			}
		}
	}
	walk(field, *v)
}

// ---- shared builder methods, mixed into the state builders ----

// base holds the methods every state type except Fail has.
type base[B any] struct {
	c    *core
	self B
}

// Comment sets the state's comment.
func (m base[B]) Comment(s string) B { m.c.st.Comment = s; return m.self }

// InputPath selects the part of the input the state works on.
func (m base[B]) InputPath(p string) B { m.c.st.InputPath = PathOf(p); return m.self }

// DiscardInput sets InputPath to null: the state sees {}.
func (m base[B]) DiscardInput() B { m.c.st.InputPath = NullPathValue(); return m.self }

// OutputPath selects the part of the output passed on.
func (m base[B]) OutputPath(p string) B { m.c.st.OutputPath = PathOf(p); return m.self }

// DiscardOutput sets OutputPath to null: the next state gets {}.
func (m base[B]) DiscardOutput() B { m.c.st.OutputPath = NullPathValue(); return m.self }

// flow holds Next/End/Assign (Task, Pass, Wait, Parallel, Map).
type flow[B any] struct {
	c    *core
	self B
}

// Next sets the state to go to.
func (m flow[B]) Next(name string) B { m.c.st.Next = name; return m.self }

// End makes the state terminal.
func (m flow[B]) End() B { m.c.st.End = true; return m.self }

// Assign sets workflow variables from an object template (see Obj).
func (m flow[B]) Assign(v Value) B { m.c.st.Assign = m.c.value(v); return m.self }

// result holds Parameters and ResultPath (Task, Pass, Parallel, Map).
type result[B any] struct {
	c    *core
	self B
}

// Parameters sets the input template (see Obj).
func (m result[B]) Parameters(v Value) B { m.c.st.Parameters = m.c.value(v); return m.self }

// ResultPath places the result in the input at a reference path.
func (m result[B]) ResultPath(p string) B { m.c.st.ResultPath = PathOf(p); return m.self }

// DiscardResult sets ResultPath to null: the output is the input.
func (m result[B]) DiscardResult() B { m.c.st.ResultPath = NullPathValue(); return m.self }

// handling holds ResultSelector, Retry and Catch (Task, Parallel, Map).
type handling[B any] struct {
	c    *core
	self B
}

// ResultSelector shapes the raw result before ResultPath (see Obj).
func (m handling[B]) ResultSelector(v Value) B { m.c.st.ResultSelector = m.c.value(v); return m.self }

// Retry appends retriers, tried in order.
func (m handling[B]) Retry(rs ...RetryRule) B {
	for _, r := range rs {
		m.c.st.Retry = append(m.c.st.Retry, r.r)
	}
	return m.self
}

// Catch appends catchers, tried in order.
func (m handling[B]) Catch(cs ...CatchRule) B {
	for _, c := range cs {
		m.c.st.Catch = append(m.c.st.Catch, c.c)
	}
	return m.self
}

// RetryRule builds a Retrier: RetryOn("Lambda.ServiceException").Interval(2).Attempts(6).Backoff(2).
type RetryRule struct{ r Retrier }

// RetryOn starts a retrier for the given error names.
func RetryOn(errorNames ...string) RetryRule {
	return RetryRule{Retrier{ErrorEquals: append([]string(nil), errorNames...)}}
}

// Interval sets IntervalSeconds.
func (r RetryRule) Interval(seconds int) RetryRule { r.r.IntervalSeconds = &seconds; return r }

// Attempts sets MaxAttempts.
func (r RetryRule) Attempts(n int) RetryRule { r.r.MaxAttempts = &n; return r }

// Backoff sets BackoffRate.
func (r RetryRule) Backoff(rate float64) RetryRule { r.r.BackoffRate = &rate; return r }

// MaxDelay sets MaxDelaySeconds.
func (r RetryRule) MaxDelay(seconds int) RetryRule { r.r.MaxDelaySeconds = &seconds; return r }

// Jitter sets JitterStrategy FULL.
func (r RetryRule) Jitter() RetryRule { r.r.JitterStrategy = "FULL"; return r }

// Comment sets the retrier's comment.
func (r RetryRule) Comment(s string) RetryRule { r.r.Comment = s; return r }

// Retrier returns the built value.
func (r RetryRule) Retrier() Retrier { return r.r }

// CatchRule builds a Catcher: CatchAll().ResultPath("$.error").Next("Notify").
type CatchRule struct{ c Catcher }

// CatchOn starts a catcher for the given error names.
func CatchOn(errorNames ...string) CatchRule {
	return CatchRule{Catcher{ErrorEquals: append([]string(nil), errorNames...)}}
}

// CatchAll starts a catcher for States.ALL.
func CatchAll() CatchRule { return CatchOn(ErrAll) }

// ResultPath places the error output {Error, Cause} at a reference path.
func (c CatchRule) ResultPath(p string) CatchRule { c.c.ResultPath = PathOf(p); return c }

// DiscardResult sets ResultPath null: the catcher passes the state input on.
func (c CatchRule) DiscardResult() CatchRule { c.c.ResultPath = NullPathValue(); return c }

// Next sets the state to go to.
func (c CatchRule) Next(name string) CatchRule { c.c.Next = name; return c }

// Comment sets the catcher's comment.
func (c CatchRule) Comment(s string) CatchRule { c.c.Comment = s; return c }

// Catcher returns the built value.
func (c CatchRule) Catcher() Catcher { return c.c }

// ---- state builders ----

// TaskBuilder builds a Task state.
type TaskBuilder struct {
	*core
	base[*TaskBuilder]
	flow[*TaskBuilder]
	result[*TaskBuilder]
	handling[*TaskBuilder]
}

// Task starts a Task state. Set what it calls with Resource.
func Task(name string) *TaskBuilder {
	b := &TaskBuilder{core: newCore(name, TypeTask)}
	b.base, b.flow, b.result, b.handling = base[*TaskBuilder]{b.core, b}, flow[*TaskBuilder]{b.core, b}, result[*TaskBuilder]{b.core, b}, handling[*TaskBuilder]{b.core, b}
	return b
}

// Resource sets the task's resource and parameters from a service
// integration helper (LambdaInvoke, SNSPublish, ...). Call Parameters after
// it to replace the parameters.
func (b *TaskBuilder) Resource(i Integration) *TaskBuilder {
	if i.err != nil {
		b.fail(i.err)
	}
	b.st.Resource = i.Resource
	if i.Parameters != nil {
		b.st.Parameters = b.value(*i.Parameters)
	}
	return b
}

// ResourceARN sets a raw resource ARN (an activity, a Lambda function ARN).
func (b *TaskBuilder) ResourceARN(arn string) *TaskBuilder { b.st.Resource = arn; return b }

// Credentials sets the role the task assumes ({"RoleArn": ...}).
func (b *TaskBuilder) Credentials(v Value) *TaskBuilder { b.st.Credentials = b.value(v); return b }

// TimeoutSeconds sets the task timeout.
func (b *TaskBuilder) TimeoutSeconds(n int) *TaskBuilder { b.st.TimeoutSeconds = &n; return b }

// TimeoutSecondsPath takes the task timeout from the input.
func (b *TaskBuilder) TimeoutSecondsPath(p string) *TaskBuilder {
	b.st.TimeoutSecondsPath = p
	return b
}

// HeartbeatSeconds sets the heartbeat interval.
func (b *TaskBuilder) HeartbeatSeconds(n int) *TaskBuilder { b.st.HeartbeatSeconds = &n; return b }

// HeartbeatSecondsPath takes the heartbeat interval from the input.
func (b *TaskBuilder) HeartbeatSecondsPath(p string) *TaskBuilder {
	b.st.HeartbeatSecondsPath = p
	return b
}

// PassBuilder builds a Pass state.
type PassBuilder struct {
	*core
	base[*PassBuilder]
	flow[*PassBuilder]
	result[*PassBuilder]
}

// Pass starts a Pass state.
func Pass(name string) *PassBuilder {
	b := &PassBuilder{core: newCore(name, TypePass)}
	b.base, b.flow, b.result = base[*PassBuilder]{b.core, b}, flow[*PassBuilder]{b.core, b}, result[*PassBuilder]{b.core, b}
	return b
}

// Result sets the fixed result (any value ValueOf accepts).
func (b *PassBuilder) Result(x any) *PassBuilder { b.st.Result = b.value(x); return b }

// WaitBuilder builds a Wait state.
type WaitBuilder struct {
	*core
	base[*WaitBuilder]
	flow[*WaitBuilder]
}

// Wait starts a Wait state; set exactly one of Seconds, SecondsPath,
// Timestamp, TimestampPath.
func Wait(name string) *WaitBuilder {
	b := &WaitBuilder{core: newCore(name, TypeWait)}
	b.base, b.flow = base[*WaitBuilder]{b.core, b}, flow[*WaitBuilder]{b.core, b}
	return b
}

// Seconds waits a fixed time.
func (b *WaitBuilder) Seconds(n int) *WaitBuilder { b.st.Seconds = &n; return b }

// SecondsPath waits the number of seconds found at a path.
func (b *WaitBuilder) SecondsPath(p string) *WaitBuilder { b.st.SecondsPath = p; return b }

// Timestamp waits until an RFC 3339 time.
func (b *WaitBuilder) Timestamp(ts string) *WaitBuilder { b.st.Timestamp = ts; return b }

// TimestampPath waits until the time found at a path.
func (b *WaitBuilder) TimestampPath(p string) *WaitBuilder { b.st.TimestampPath = p; return b }

// SucceedBuilder builds a Succeed state.
type SucceedBuilder struct {
	*core
	base[*SucceedBuilder]
}

// Succeed starts a Succeed state.
func Succeed(name string) *SucceedBuilder {
	b := &SucceedBuilder{core: newCore(name, TypeSucceed)}
	b.base = base[*SucceedBuilder]{b.core, b}
	return b
}

// FailBuilder builds a Fail state.
type FailBuilder struct{ *core }

// Fail starts a Fail state.
func Fail(name string) *FailBuilder { return &FailBuilder{core: newCore(name, TypeFail)} }

// Comment sets the state's comment.
func (b *FailBuilder) Comment(s string) *FailBuilder { b.st.Comment = s; return b }

// Error sets the error name.
func (b *FailBuilder) Error(name string) *FailBuilder { b.st.Error = name; return b }

// ErrorPath takes the error name from a path (or intrinsic call).
func (b *FailBuilder) ErrorPath(p string) *FailBuilder { b.st.ErrorPath = p; return b }

// Cause sets the cause.
func (b *FailBuilder) Cause(s string) *FailBuilder { b.st.Cause = s; return b }

// CausePath takes the cause from a path (or intrinsic call).
func (b *FailBuilder) CausePath(p string) *FailBuilder { b.st.CausePath = p; return b }

// ChoiceBuilder builds a Choice state.
type ChoiceBuilder struct {
	*core
	base[*ChoiceBuilder]
}

// Choice starts a Choice state.
func Choice(name string) *ChoiceBuilder {
	b := &ChoiceBuilder{core: newCore(name, TypeChoice)}
	b.base = base[*ChoiceBuilder]{b.core, b}
	return b
}

// When appends a rule: if cond holds, go to next.
func (b *ChoiceBuilder) When(cond ChoiceRule, next string) *ChoiceBuilder {
	cond.Next = next
	b.st.Choices = append(b.st.Choices, cond)
	return b
}

// Default sets the state to go to when no rule matches.
func (b *ChoiceBuilder) Default(next string) *ChoiceBuilder { b.st.Default = next; return b }

// Assign sets workflow variables when the Choice state runs.
func (b *ChoiceBuilder) Assign(v Value) *ChoiceBuilder { b.st.Assign = b.value(v); return b }

// FlowBuilder is a nested state machine: a Parallel branch or a Map item
// processor. States run in their own scope; Next may not leave it.
type FlowBuilder struct {
	comment string
	startAt string
	states  []StateBuilder
}

// Flow starts a nested state machine; StartAt defaults to the first state.
func Flow(states ...StateBuilder) *FlowBuilder { return &FlowBuilder{states: states} }

// StartAt names the first state.
func (f *FlowBuilder) StartAt(name string) *FlowBuilder { f.startAt = name; return f }

// Comment sets the nested machine's comment.
func (f *FlowBuilder) Comment(s string) *FlowBuilder { f.comment = s; return f }

// nested records a flow to assemble with the parent's checks at Build.
type nested struct {
	flow *FlowBuilder
	set  func(comment, startAt string, states States)
	name string
}

// ParallelBuilder builds a Parallel state.
type ParallelBuilder struct {
	*core
	base[*ParallelBuilder]
	flow[*ParallelBuilder]
	result[*ParallelBuilder]
	handling[*ParallelBuilder]
	subs []nested
}

// Parallel starts a Parallel state.
func Parallel(name string) *ParallelBuilder {
	b := &ParallelBuilder{core: newCore(name, TypeParallel)}
	b.base, b.flow, b.result, b.handling = base[*ParallelBuilder]{b.core, b}, flow[*ParallelBuilder]{b.core, b}, result[*ParallelBuilder]{b.core, b}, handling[*ParallelBuilder]{b.core, b}
	return b
}

// Branches appends branches, all run on the state's input.
func (b *ParallelBuilder) Branches(flows ...*FlowBuilder) *ParallelBuilder {
	for _, f := range flows {
		i := len(b.st.Branches)
		b.st.Branches = append(b.st.Branches, Branch{})
		b.subs = append(b.subs, nested{flow: f, name: fmt.Sprintf("Branches[%d]", i), set: func(c, s string, st States) {
			b.st.Branches[i] = Branch{Comment: c, StartAt: s, States: st}
		}})
	}
	return b
}

func (b *ParallelBuilder) problems() []error {
	return append(b.core.errs, buildNested(b.st.Name, b.subs)...)
}

// MapBuilder builds a Map state (inline or distributed).
type MapBuilder struct {
	*core
	base[*MapBuilder]
	flow[*MapBuilder]
	result[*MapBuilder]
	handling[*MapBuilder]
	subs []nested
}

// Map starts a Map state. Give it an ItemProcessor (or a legacy Iterator).
func Map(name string) *MapBuilder {
	b := &MapBuilder{core: newCore(name, TypeMap)}
	b.base, b.flow, b.result, b.handling = base[*MapBuilder]{b.core, b}, flow[*MapBuilder]{b.core, b}, result[*MapBuilder]{b.core, b}, handling[*MapBuilder]{b.core, b}
	return b
}

// ItemProcessor sets the states run per item. cfg may be nil (inline).
func (b *MapBuilder) ItemProcessor(cfg *ProcessorConfig, f *FlowBuilder) *MapBuilder {
	b.st.ItemProcessor = &ItemProcessor{ProcessorConfig: cfg}
	b.subs = append(b.subs, nested{flow: f, name: "ItemProcessor", set: func(c, s string, st States) {
		b.st.ItemProcessor.Comment, b.st.ItemProcessor.StartAt, b.st.ItemProcessor.States = c, s, st
	}})
	return b
}

// Iterator sets the states run per item, legacy form (use ItemProcessor).
func (b *MapBuilder) Iterator(f *FlowBuilder) *MapBuilder {
	b.st.Iterator = &ItemProcessor{}
	b.subs = append(b.subs, nested{flow: f, name: "Iterator", set: func(c, s string, st States) {
		b.st.Iterator.Comment, b.st.Iterator.StartAt, b.st.Iterator.States = c, s, st
	}})
	return b
}

// Inline is the ProcessorConfig of an inline Map.
func Inline() *ProcessorConfig { return &ProcessorConfig{Mode: ModeInline} }

// Distributed is the ProcessorConfig of a distributed Map running child
// executions of the given type (ExecStandard or ExecExpress).
func Distributed(executionType string) *ProcessorConfig {
	return &ProcessorConfig{Mode: ModeDistributed, ExecutionType: executionType}
}

// ItemsPath selects the items array in the input.
func (b *MapBuilder) ItemsPath(p string) *MapBuilder { b.st.ItemsPath = p; return b }

// ItemSelector sets the per-item template (see Obj).
func (b *MapBuilder) ItemSelector(v Value) *MapBuilder { b.st.ItemSelector = b.value(v); return b }

// ItemReader sets where a distributed Map reads its items.
func (b *MapBuilder) ItemReader(r ItemReader) *MapBuilder { b.st.ItemReader = &r; return b }

// ItemBatcher groups items into batches.
func (b *MapBuilder) ItemBatcher(ib ItemBatcher) *MapBuilder { b.st.ItemBatcher = &ib; return b }

// ResultWriter sets where a distributed Map writes child results.
func (b *MapBuilder) ResultWriter(w ResultWriter) *MapBuilder { b.st.ResultWriter = &w; return b }

// MaxConcurrency limits parallel iterations (0 = no limit).
func (b *MapBuilder) MaxConcurrency(n int) *MapBuilder { b.st.MaxConcurrency = &n; return b }

// MaxConcurrencyPath takes MaxConcurrency from a path.
func (b *MapBuilder) MaxConcurrencyPath(p string) *MapBuilder { b.st.MaxConcurrencyPath = p; return b }

// ToleratedFailurePercentage sets the failure tolerance in percent.
func (b *MapBuilder) ToleratedFailurePercentage(pct float64) *MapBuilder {
	b.st.ToleratedFailurePercentage = &pct
	return b
}

// ToleratedFailurePercentagePath takes the tolerance from a path.
func (b *MapBuilder) ToleratedFailurePercentagePath(p string) *MapBuilder {
	b.st.ToleratedFailurePercentagePath = p
	return b
}

// ToleratedFailureCount sets the failure tolerance as a count.
func (b *MapBuilder) ToleratedFailureCount(n int) *MapBuilder {
	b.st.ToleratedFailureCount = &n
	return b
}

// ToleratedFailureCountPath takes the count from a path.
func (b *MapBuilder) ToleratedFailureCountPath(p string) *MapBuilder {
	b.st.ToleratedFailureCountPath = p
	return b
}

// Label prefixes child execution names of a distributed Map.
func (b *MapBuilder) Label(s string) *MapBuilder { b.st.Label = s; return b }

func (b *MapBuilder) problems() []error {
	return append(b.core.errs, buildNested(b.st.Name, b.subs)...)
}

// buildNested assembles nested flows; their problems are reported under the
// parent state's name.
func buildNested(parent string, subs []nested) []error {
	var errs []error
	for _, s := range subs {
		if s.flow == nil {
			errs = append(errs, fmt.Errorf("%s: nil flow", s.name))
			continue
		}
		states, startAt := assemble(s.name, s.flow.states, s.flow.startAt, &errs)
		s.set(s.flow.comment, startAt, states)
	}
	return errs
}
