// Package engine is a local interpreter for the Amazon States Language
// (JSONPath query language), faithful to the AWS Step Functions developer
// guide: every state type, the input/output pipeline, the context object,
// Choice rules, Retry and Catch, Parallel, inline and distributed Map,
// service integrations bound to the embedded backends, mocked responses in
// the Step Functions Local format, execution history with the AWS event
// names, and executions persisted for other processes to read.
//
// Use: m, err := engine.Compile(def); e := engine.New(opts);
// x, err := e.Execute(ctx, engine.StartInput{Machine: m, Input: `{...}`}).
// Time comes from a Clock: the VirtualClock (default) makes Wait states and
// retry back-off take no real time and gives the same history every run.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/serverless-elt/elt/asl/engine/mockconfig"
	"github.com/serverless-elt/elt/asl/intrinsic"
)

// Quotas of a Standard workflow execution (AWS developer guide, "Step
// Functions service quotas"): at most 25,000 history events, and at most
// one year of run time.
const (
	DefaultMaxHistoryEvents = 25000
	MaxExecutionTime        = 365 * 24 * time.Hour
)

var errHistoryQuota = errors.New("history quota reached")

// PayloadLimit is the Step Functions quota on state input and output and
// execution input and output: 256 KiB of UTF-8 text.
const PayloadLimit = 256 * 1024

// Options configure an Engine. Zero values are usable.
type Options struct {
	// Clock is the source of time; nil means a VirtualClock.
	Clock Clock
	// Store keeps executions and histories; nil means a MemStore.
	Store Store
	// Tasks maps Task resources to handlers.
	Tasks *Registry
	// Services are the backends of the service integrations.
	Services Services
	// Mocks are mocked task responses (Step Functions Local format),
	// selected per execution with StartInput.TestCase.
	Mocks *mockconfig.Config
	// Seed seeds the random source of FULL jitter and States.MathRandom.
	Seed uint64
	// UUID generates execution names, States.UUID and event ids; nil uses
	// random version 4 UUIDs.
	UUID func() string
	// Logger receives one line per execution start and end; nil discards.
	Logger *slog.Logger
	// PayloadLimit overrides the 256 KiB payload quota (0 keeps it).
	PayloadLimit int
	// MaxInlineConcurrency bounds an inline Map without MaxConcurrency
	// (AWS runs up to 40 iterations at once); 0 means 40.
	MaxInlineConcurrency int
	// MaxHistoryEvents is the history quota: an execution that reaches it
	// fails (States.Runtime). 0 means AWS's 25,000; negative means none.
	MaxHistoryEvents int
	// StopPollInterval is how often the engine looks for stop requests
	// other processes left for its executions (stores implementing
	// StopRequests, e.g. FileStore); 0 means 250ms. Also the interval at
	// which StopExecution polls for another process to have stopped one.
	StopPollInterval time.Duration
}

// Engine runs executions. It is safe for concurrent use.
type Engine struct {
	clock        Clock
	store        Store
	tasks        *Registry
	services     Services
	mocks        *mockconfig.Config
	rnd          *lockedRand
	newUUIDFn    func() string
	log          *slog.Logger
	payloadLimit int
	inlineConc   int
	maxEvents    int
	stopPoll     time.Duration

	mu       sync.Mutex
	watching bool // the stop-request watcher runs
	running  map[string]*Run
	tokens   map[string]*callback // open .waitForTaskToken tasks by token
	machines map[string]*Machine  // compiled registered definitions, by definition text
}

// New returns an Engine.
func New(o Options) *Engine {
	e := &Engine{
		clock:        o.Clock,
		store:        o.Store,
		tasks:        o.Tasks,
		services:     o.Services,
		mocks:        o.Mocks,
		rnd:          &lockedRand{r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))},
		newUUIDFn:    o.UUID,
		log:          o.Logger,
		payloadLimit: o.PayloadLimit,
		inlineConc:   o.MaxInlineConcurrency,
		maxEvents:    o.MaxHistoryEvents,
		stopPoll:     o.StopPollInterval,
		running:      map[string]*Run{},
		tokens:       map[string]*callback{},
		machines:     map[string]*Machine{},
	}
	if e.clock == nil {
		e.clock = &VirtualClock{}
	}
	if e.store == nil {
		e.store = NewMemStore()
	}
	if e.tasks == nil {
		e.tasks = NewRegistry()
	}
	if e.newUUIDFn == nil {
		e.newUUIDFn = func() string { return uuid.NewString() }
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.payloadLimit == 0 {
		e.payloadLimit = PayloadLimit
	}
	if e.inlineConc == 0 {
		e.inlineConc = 40
	}
	if e.maxEvents == 0 {
		e.maxEvents = DefaultMaxHistoryEvents
	}
	if e.stopPoll <= 0 {
		e.stopPoll = 250 * time.Millisecond
	}
	return e
}

// Store is the engine's execution store.
func (e *Engine) Store() Store { return e.store }

// Tasks is the engine's task registry.
func (e *Engine) Tasks() *Registry { return e.tasks }

func (e *Engine) newUUID() string { return e.newUUIDFn() }

type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Int64N(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// jitterRand is a *rand.Rand whose draws come from the locked source.
func (l *lockedRand) jitter() *rand.Rand { return rand.New(lockedSource{l}) }

type lockedSource struct{ l *lockedRand }

func (s lockedSource) Uint64() uint64 {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	return s.l.r.Uint64()
}

// StartInput describes an execution to start.
type StartInput struct {
	// StateMachineArn names the state machine. With Machine nil it must be
	// registered in the store (CreateStateMachine). A "#TestCase" suffix
	// selects a mock test case, as Step Functions Local does.
	StateMachineArn string
	// Machine runs this compiled machine; StateMachineArn (or, if empty,
	// StateMachineName) then only names it.
	Machine          *Machine
	StateMachineName string
	// Name of the execution; empty means a UUID. Unique per state machine.
	Name string
	// Input is the execution input as JSON text; empty means "{}".
	Input string
	// TestCase selects StateMachines.<machine name>.TestCases.<TestCase>
	// of the mock configuration.
	TestCase string
	RoleArn  string
}

// Run is a started execution.
type Run struct {
	x      *execution
	done   chan struct{}
	cancel context.CancelCauseFunc
}

// Arn is the execution ARN.
func (r *Run) Arn() string { return r.x.arn }

// Execution is the execution record as it is now.
func (r *Run) Execution() Execution { return r.x.record() }

// Done is closed when the execution has ended.
func (r *Run) Done() <-chan struct{} { return r.done }

// Wait blocks until the execution ends (or ctx does) and returns its record.
func (r *Run) Wait(ctx context.Context) (Execution, error) {
	select {
	case <-r.done:
		return r.x.record(), nil
	case <-ctx.Done():
		return r.x.record(), ctx.Err()
	}
}

// Events is the execution's history so far.
func (r *Run) Events(ctx context.Context) ([]Event, error) {
	return r.x.eng.store.History(ctx, r.x.arn)
}

// errAborted is the cancellation cause of StopExecution.
type abortCause struct{ name, cause string }

func (a *abortCause) Error() string { return "execution aborted: " + a.name + " " + a.cause }

var errExecutionTimedOut = errors.New("execution timed out")

// Execute starts an execution and waits for its end. If ctx ends first the
// execution is aborted.
func (e *Engine) Execute(ctx context.Context, in StartInput) (Execution, error) {
	run, err := e.StartExecution(ctx, in)
	if err != nil {
		return Execution{}, err
	}
	x, err := run.Wait(ctx)
	if err != nil {
		run.cancel(&abortCause{name: "Canceled", cause: err.Error()})
		<-run.done
		return run.x.record(), err
	}
	return x, nil
}

// machineFor resolves the state machine of a start request.
func (e *Engine) machineFor(ctx context.Context, in *StartInput) (*Machine, string, error) {
	arn, testCase, _ := strings.Cut(in.StateMachineArn, "#")
	if testCase != "" && in.TestCase == "" {
		in.TestCase = testCase
	}
	if in.Machine != nil {
		name := in.StateMachineName
		if arn != "" {
			n, err := ParseStateMachineArn(arn)
			if err != nil {
				return nil, "", err
			}
			name = n
		}
		if name == "" {
			name = "local"
		}
		return in.Machine, name, nil
	}
	name, err := ParseStateMachineArn(arn)
	if err != nil {
		return nil, "", err
	}
	rec, err := e.store.GetStateMachine(ctx, arn)
	if err != nil {
		return nil, "", err
	}
	if in.RoleArn == "" {
		in.RoleArn = rec.RoleArn
	}
	e.mu.Lock()
	m, ok := e.machines[rec.Definition]
	e.mu.Unlock()
	if !ok {
		m, err = Compile([]byte(rec.Definition))
		if err != nil {
			return nil, "", fmt.Errorf("state machine %s: %w", name, err)
		}
		e.mu.Lock()
		e.machines[rec.Definition] = m
		e.mu.Unlock()
	}
	return m, name, nil
}

// ErrInvalidExecutionInput reports start input that is not JSON or too large.
var ErrInvalidExecutionInput = errors.New("InvalidExecutionInput")

// StartExecution starts an execution and returns at once. The execution
// outlives ctx (it only carries ctx's values); stop it with StopExecution.
func (e *Engine) StartExecution(ctx context.Context, in StartInput) (*Run, error) {
	m, smName, err := e.machineFor(ctx, &in)
	if err != nil {
		return nil, err
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if len(in.Input) > e.payloadLimit {
		return nil, fmt.Errorf("%w: input is %d bytes, over the %d byte quota", ErrInvalidExecutionInput, len(in.Input), e.payloadLimit)
	}
	input, err := decodeJSON([]byte(in.Input))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidExecutionInput, err)
	}
	if in.Name == "" {
		in.Name = e.newUUID()
	}
	if err := CheckName(in.Name); err != nil {
		return nil, err
	}
	var mocks map[string]string
	if in.TestCase != "" {
		if e.mocks == nil {
			return nil, fmt.Errorf("test case %q requested but the engine has no mock configuration", in.TestCase)
		}
		if mocks, err = e.mocks.TestCase(smName, in.TestCase); err != nil {
			return nil, err
		}
	}
	lane := e.clock.Start()
	start := lane.Now()
	x := &execution{
		eng:      e,
		m:        m,
		smName:   smName,
		arn:      ExecutionArn(smName, in.Name),
		lane:     lane,
		input:    input,
		mocks:    mocks,
		testCase: in.TestCase,
		mocked:   &mockCounter{counts: map[string]int{}},
	}
	x.rec = Execution{
		ExecutionArn:    x.arn,
		StateMachineArn: StateMachineArn(smName),
		Name:            in.Name,
		Status:          StatusRunning,
		StartDate:       start,
		Input:           in.Input,
	}
	x.ctxExecution = map[string]any{
		"Id":           x.arn,
		"Input":        input,
		"Name":         in.Name,
		"RoleArn":      in.RoleArn,
		"StartTime":    start.UTC().Format(time.RFC3339Nano),
		"RedriveCount": json.Number("0"),
	}
	x.ctxStateMachine = map[string]any{"Id": StateMachineArn(smName), "Name": smName}
	w, err := e.store.CreateExecution(ctx, x.rec)
	if err != nil {
		// StartExecution is idempotent for a name whose execution is still
		// open with identical input: the call returns that execution. A
		// closed execution, or different input, is ExecutionAlreadyExists.
		if errors.Is(err, ErrExecutionAlreadyExists) {
			e.mu.Lock()
			run, ok := e.running[x.arn]
			e.mu.Unlock()
			if ok {
				if cur := run.Execution(); cur.Input == in.Input && cur.Status == StatusRunning {
					return run, nil
				}
			}
		}
		return nil, err
	}
	x.writer = w
	x.hist.sink = func(ev Event) {
		if err := w.Event(ev); err != nil {
			e.log.Warn("engine.history_write_failed", "execution", x.arn, "err", err)
		}
	}
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	x.cancel = cancel
	x.hist.limit = e.maxEvents
	// No execution outlives a year; on the virtual clock this also ends a
	// polling loop that never finishes instead of spinning forever.
	lane.WithDeadline(start.Add(MaxExecutionTime), errExecutionTimeoutDeadline)
	if m.root.timeout > 0 {
		lane.WithDeadline(start.Add(m.root.timeout), errExecutionTimeoutDeadline)
		if !lane.Virtual() {
			var stop context.CancelFunc
			runCtx, stop = context.WithDeadlineCause(runCtx, time.Now().Add(m.root.timeout), errExecutionTimedOut)
			_ = stop // released when cancel runs: the deadline context is a child of the cancel context
		}
	}
	run := &Run{x: x, done: make(chan struct{}), cancel: cancel}
	e.mu.Lock()
	e.running[x.arn] = run
	e.ensureStopWatcher()
	e.mu.Unlock()
	e.log.Info("engine.execution_started", "execution", x.arn)
	go func() {
		defer close(run.done)
		defer cancel(nil)
		x.run(runCtx)
		e.mu.Lock()
		delete(e.running, x.arn)
		e.mu.Unlock()
		e.log.Info("engine.execution_ended", "execution", x.arn, "status", x.record().Status)
	}()
	return run, nil
}

// WaitExecution waits for an execution of this engine to end and returns
// its record; an execution that is not running here is read from the store.
func (e *Engine) WaitExecution(ctx context.Context, arn string) (Execution, error) {
	e.mu.Lock()
	run, ok := e.running[arn]
	e.mu.Unlock()
	if ok {
		return run.Wait(ctx)
	}
	return e.store.GetExecution(ctx, arn)
}

// StopExecution aborts a running execution, as the StopExecution API does:
// it ends ABORTED with an ExecutionAborted history event carrying errName
// and cause. An execution running in another process on a shared store
// (StopRequests) is stopped through a stop request that process's engine
// acts on; one that no process runs any more is closed here. It returns
// the execution's stop date (that of an execution that had already ended).
func (e *Engine) StopExecution(ctx context.Context, arn, errName, cause string) (time.Time, error) {
	e.mu.Lock()
	run, ok := e.running[arn]
	e.mu.Unlock()
	if ok {
		run.cancel(&abortCause{name: errName, cause: cause})
		x, _ := run.Wait(ctx)
		if x.StopDate != nil {
			return *x.StopDate, nil
		}
		return time.Now().UTC(), nil
	}
	x, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		return time.Time{}, err
	}
	if x.StopDate != nil {
		return *x.StopDate, nil
	}
	sr, ok := e.store.(StopRequests)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is not running in this process", ErrExecutionDoesNotExist, arn)
	}
	requested := false
	for {
		// No process runs it (it died): close it here.
		if x, closed, err := sr.AbortIfOrphaned(ctx, arn, errName, cause, time.Now()); err != nil {
			return time.Time{}, err
		} else if closed {
			e.log.Info("engine.execution_aborted_orphan", "execution", arn)
			return *x.StopDate, nil
		}
		x, err := e.store.GetExecution(ctx, arn)
		if err != nil {
			return time.Time{}, err
		}
		if x.Status != StatusRunning && x.StopDate != nil {
			return *x.StopDate, nil
		}
		if !requested {
			if err := sr.RequestStop(ctx, arn, errName, cause); err != nil {
				return time.Time{}, err
			}
			requested = true
		}
		t := time.NewTimer(e.stopPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, fmt.Errorf("stop %s: waiting for the process running it: %w", arn, ctx.Err())
		case <-t.C:
		}
	}
}

// RunningExecutions lists the ARNs of the executions this engine runs now
// (for a graceful shutdown that stops them).
func (e *Engine) RunningExecutions() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.running))
	for arn := range e.running {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out
}

// ensureStopWatcher starts the goroutine that acts on stop requests from
// other processes while this engine runs executions. Called with e.mu held.
func (e *Engine) ensureStopWatcher() {
	if e.watching {
		return
	}
	sr, ok := e.store.(StopRequests)
	if !ok {
		return
	}
	e.watching = true
	go func() {
		t := time.NewTicker(e.stopPoll)
		defer t.Stop()
		for range t.C {
			e.mu.Lock()
			if len(e.running) == 0 {
				e.watching = false
				e.mu.Unlock()
				return
			}
			runs := make(map[string]*Run, len(e.running))
			for arn, r := range e.running {
				runs[arn] = r
			}
			e.mu.Unlock()
			for arn, r := range runs {
				if name, cause, ok := sr.PendingStop(arn); ok {
					e.log.Info("engine.stop_requested", "execution", arn)
					r.cancel(&abortCause{name: name, cause: cause})
				}
			}
		}
	}()
}

// execution is one running execution.
type execution struct {
	eng      *Engine
	m        *Machine
	smName   string
	arn      string
	lane     Lane
	input    any
	mocks    map[string]string
	testCase string

	ctxExecution    map[string]any
	ctxStateMachine map[string]any

	hist   historyRecorder
	writer ExecutionWriter
	cancel context.CancelCauseFunc

	mu  sync.Mutex
	rec Execution

	mocked *mockCounter // shared with the child executions of a distributed Map
}

// mockCounter counts the invocations of each mocked state.
type mockCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *mockCounter) next(state string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.counts[state]
	m.counts[state] = i + 1
	return i
}

func (x *execution) record() Execution {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.rec
}

// thread is one path of control: the top level, a branch, an iteration.
type thread struct {
	lane    Lane
	prev    int64          // id of the last event on this path
	mapItem map[string]any // $$.Map.Item for iterations
	quiet   bool           // events not recorded (distributed Map children)
}

func (x *execution) event(th *thread, typ string, details map[string]any) {
	if th.quiet {
		return
	}
	id, ok := x.hist.add(th.prev, th.lane.Now(), typ, details)
	th.prev = id
	if !ok {
		x.cancel(errHistoryQuota)
	}
}

var textBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonText encodes v as Step Functions shows JSON (no HTML escaping).
func jsonText(v any) string {
	switch t := v.(type) {
	case json.Number:
		return string(t)
	case bool:
		if t {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	}
	b := textBuffers.Get().(*bytes.Buffer)
	defer textBuffers.Put(b)
	b.Reset()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func (x *execution) run(ctx context.Context) { x.runWith(ctx, x.m.root) }

// runWith runs prog (the machine, or a distributed Map's item processor
// for a child execution) on the execution's input and records the end.
func (x *execution) runWith(ctx context.Context, prog *program) {
	th := &thread{lane: x.lane}
	x.event(th, "ExecutionStarted", map[string]any{
		"input":        x.rec.Input,
		"inputDetails": notTruncated,
		"roleArn":      x.ctxExecution["RoleArn"],
	})
	out, err := x.runProgram(ctx, th, prog, x.input)
	var text string
	if err == nil {
		text = jsonText(out)
		if len(text) > x.eng.payloadLimit {
			err = &Error{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The execution output is %d bytes, over the %d byte quota.", len(text), x.eng.payloadLimit)}
		}
	}
	stop := th.lane.Now()
	if !x.lane.Virtual() {
		stop = time.Now().UTC()
	}
	x.mu.Lock()
	x.rec.StopDate = &stop
	var typ string
	var details map[string]any
	var ab *abortCause
	var dl *DeadlineError
	var ae *Error
	switch {
	case err == nil:
		x.rec.Status = StatusSucceeded
		x.rec.Output = &text
		typ, details = "ExecutionSucceeded", map[string]any{"output": text, "outputDetails": notTruncated}
	case errors.Is(context.Cause(ctx), errHistoryQuota):
		x.rec.Status, x.rec.Error = StatusFailed, ErrRuntime
		x.rec.Cause = fmt.Sprintf("The execution reached the maximum number of history events (%d).", x.eng.maxEvents)
		typ, details = "ExecutionFailed", map[string]any{"error": ErrRuntime, "cause": x.rec.Cause}
	case errors.As(context.Cause(ctx), &ab):
		x.rec.Status, x.rec.Error, x.rec.Cause = StatusAborted, ab.name, ab.cause
		typ, details = "ExecutionAborted", map[string]any{"error": ab.name, "cause": ab.cause}
	case errors.Is(context.Cause(ctx), errExecutionTimedOut), errors.As(err, &dl) && dl.Name == errExecutionTimeoutDeadline:
		x.rec.Status, x.rec.Error, x.rec.Cause = StatusTimedOut, ErrTimeout, "The execution timed out (TimeoutSeconds)."
		typ, details = "ExecutionTimedOut", map[string]any{"error": ErrTimeout, "cause": x.rec.Cause}
	case errors.As(err, &ae):
		x.rec.Status, x.rec.Error, x.rec.Cause = StatusFailed, ae.Name, ae.Cause
		typ, details = "ExecutionFailed", map[string]any{"error": ae.Name, "cause": ae.Cause}
	default:
		x.rec.Status, x.rec.Error, x.rec.Cause = StatusFailed, ErrRuntime, err.Error()
		typ, details = "ExecutionFailed", map[string]any{"error": ErrRuntime, "cause": err.Error()}
	}
	rec := x.rec
	x.mu.Unlock()
	th.lane = x.lane
	x.hist.mu.Lock()
	x.hist.limit = 0 // the closing event is always recorded
	x.hist.mu.Unlock()
	x.event(th, typ, details)
	if err := x.writer.Update(rec); err != nil {
		x.eng.log.Warn("engine.execution_write_failed", "execution", x.arn, "err", err)
	}
	if err := x.writer.Close(); err != nil {
		x.eng.log.Warn("engine.execution_write_failed", "execution", x.arn, "err", err)
	}
}

// runProgram runs a state graph from StartAt to a terminal state.
func (x *execution) runProgram(ctx context.Context, th *thread, p *program, input any) (any, error) {
	cur := p.startAt
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := p.states[cur]
		out, next, err := x.runState(ctx, th, st, input)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		input, cur = out, next
	}
}

// contextObject is $$ for a state.
func (x *execution) contextObject(th *thread, st *state, entered time.Time, retryCount int, token string) map[string]any {
	c := map[string]any{
		"Execution":    x.ctxExecution,
		"StateMachine": x.ctxStateMachine,
		"State": map[string]any{
			"Name":        st.name,
			"EnteredTime": entered.UTC().Format(time.RFC3339Nano),
			"RetryCount":  json.Number(fmt.Sprint(retryCount)),
		},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	if th.mapItem != nil {
		c["Map"] = map[string]any{"Item": th.mapItem}
	}
	return c
}

func (x *execution) env(input, ctxObj any) intrinsic.Env {
	return intrinsic.Env{
		Input:   input,
		Context: ctxObj,
		Rand:    x.eng.rnd,
		UUID:    func() (string, error) { return x.eng.newUUID(), nil },
	}
}

func (x *execution) checkSize(text, what string) error {
	if len(text) > x.eng.payloadLimit {
		return &Error{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The %s is %d bytes, over the %d byte quota.", what, len(text), x.eng.payloadLimit)}
	}
	return nil
}

// runState runs one state and returns its output and the next state
// ("" when the state ends its graph).
func (x *execution) runState(ctx context.Context, th *thread, st *state, input any) (any, string, error) {
	inText := jsonText(input)
	x.event(th, st.typ+"StateEntered", map[string]any{"name": st.name, "input": inText, "inputDetails": notTruncated})
	if err := x.checkSize(inText, "state input"); err != nil {
		return nil, "", err
	}
	entered := th.lane.Now()
	var out any
	var next string
	var err error
	switch st.typ {
	case "Pass", "Task", "Parallel", "Map":
		out, next, err = x.runWithErrorHandling(ctx, th, st, input, entered)
	case "Choice":
		out, next, err = x.runChoice(th, st, input, entered)
	case "Wait":
		out, err = x.runWait(ctx, th, st, input)
		next = st.next
	case "Succeed":
		out, err = x.inputOutputOnly(st, input)
	case "Fail":
		return nil, "", x.failState(st, input)
	}
	if err != nil {
		return nil, "", err
	}
	outText := jsonText(out)
	if err := x.checkSize(outText, "state output"); err != nil {
		return nil, "", err
	}
	x.event(th, st.typ+"StateExited", map[string]any{"name": st.name, "output": outText, "outputDetails": notTruncated})
	return out, next, nil
}

func applyInputPath(p optPath, input any) (any, error) {
	switch {
	case p.null:
		return map[string]any{}, nil
	case p.path == nil:
		return input, nil
	}
	v, err := p.path.Eval(input)
	if err != nil {
		return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s' : %v", p.path, err)}
	}
	return v, nil
}

func applyResultPath(p resultPath, rawInput, result any) (any, error) {
	switch {
	case p.discard:
		return rawInput, nil
	case p.path == nil:
		return result, nil
	}
	out, err := setPath(rawInput, p, result)
	if err != nil {
		return nil, &Error{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Unable to apply ResultPath '%s' to input: %v", p.path, err)}
	}
	return out, nil
}

func (x *execution) inputOutputOnly(st *state, input any) (any, error) {
	v, err := applyInputPath(st.inputPath, input)
	if err != nil {
		return nil, err
	}
	return applyInputPath(st.outputPath, v)
}

func (x *execution) failState(st *state, input any) error {
	e := &Error{Name: st.errorName, Cause: st.cause}
	for _, f := range []struct {
		p   *optionalPath
		dst *string
	}{{(*optionalPath)(st.errorPath), &e.Name}, {(*optionalPath)(st.causePath), &e.Cause}} {
		if f.p == nil {
			continue
		}
		v, err := f.p.eval(input)
		if err != nil {
			return err
		}
		s, ok := v.(string)
		if !ok {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The value at '%s' must be a string", f.p.String())}
		}
		*f.dst = s
	}
	return e
}

func (x *execution) runChoice(th *thread, st *state, input any, entered time.Time) (any, string, error) {
	eff, err := applyInputPath(st.inputPath, input)
	if err != nil {
		return nil, "", err
	}
	ctxObj := x.contextObject(th, st, entered, 0, "")
	next := ""
	for _, r := range st.choices {
		ok, err := r.eval(eff, ctxObj)
		if err != nil {
			return nil, "", err
		}
		if ok {
			next = r.next
			break
		}
	}
	if next == "" {
		next = st.defaultNext
	}
	if next == "" {
		return nil, "", &Error{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Choice Rule matched and no Default is specified in state '%s'.", st.name)}
	}
	out, err := applyInputPath(st.outputPath, eff)
	return out, next, err
}

func (x *execution) runWait(ctx context.Context, th *thread, st *state, input any) (any, error) {
	eff, err := applyInputPath(st.inputPath, input)
	if err != nil {
		return nil, err
	}
	var d time.Duration
	now := th.lane.Now()
	switch {
	case st.waitSeconds != nil:
		d = time.Duration(*st.waitSeconds * float64(time.Second))
	case st.waitSecondsPath != nil:
		v, err := (*optionalPath)(st.waitSecondsPath).eval(eff)
		if err != nil {
			return nil, err
		}
		r, ok := toRat(v)
		if !ok || r.Sign() < 0 || !r.IsInt() {
			return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter does not reference a valid non-negative integer: %s", jsonText(v))}
		}
		f, _ := r.Float64()
		d = time.Duration(f * float64(time.Second))
	case st.waitTimestamp != nil:
		d = st.waitTimestamp.Sub(now)
	case st.waitTimestampPath != nil:
		v, err := (*optionalPath)(st.waitTimestampPath).eval(eff)
		if err != nil {
			return nil, err
		}
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", jsonText(v))}
		}
		d = t.Sub(now)
	}
	if d > 0 {
		if err := th.lane.Sleep(ctx, d); err != nil {
			return nil, err
		}
	}
	return applyInputPath(st.outputPath, eff)
}

// runWithErrorHandling runs a Task, Pass, Parallel or Map state with its
// Retry and Catch.
func (x *execution) runWithErrorHandling(ctx context.Context, th *thread, st *state, input any, entered time.Time) (any, string, error) {
	var rs retryState
	for {
		out, err := x.attempt(ctx, th, st, input, entered, rs.total())
		if err == nil {
			return out, st.next, nil
		}
		var ae *Error
		if !errors.As(err, &ae) {
			return nil, "", err // abort, execution timeout: not for Retry or Catch
		}
		if d, ok := rs.next(st.retry, ae.Name, x.eng.rnd.jitter()); ok {
			if err := th.lane.Sleep(ctx, d); err != nil {
				return nil, "", err
			}
			continue
		}
		for _, c := range st.catch {
			if !matches(c.errorEquals, ae.Name) {
				continue
			}
			out, err := applyResultPath(c.resultPath, input, map[string]any{"Error": ae.Name, "Cause": ae.Cause})
			if err != nil {
				return nil, "", err
			}
			return out, c.next, nil
		}
		return nil, "", ae
	}
}

// attempt runs the input/output pipeline of one try of a state:
// InputPath -> Parameters -> work -> ResultSelector -> ResultPath -> OutputPath.
func (x *execution) attempt(ctx context.Context, th *thread, st *state, raw any, entered time.Time, retryCount int) (any, error) {
	eff, err := applyInputPath(st.inputPath, raw)
	if err != nil {
		return nil, err
	}
	token := ""
	if strings.HasSuffix(st.resource, ".waitForTaskToken") {
		token = x.eng.newUUID()
	}
	var ctxObj map[string]any
	if st.parameters != nil || st.resultSelector != nil || st.typ == "Map" {
		ctxObj = x.contextObject(th, st, entered, retryCount, token)
	}
	if st.parameters != nil {
		if eff, err = st.parameters.eval(eff, ctxObj, x.env(eff, ctxObj)); err != nil {
			return nil, err
		}
		if st.typ == "Task" {
			if err := x.checkSize(jsonText(eff), "state input after Parameters"); err != nil {
				return nil, err
			}
		}
	}
	var result any
	switch st.typ {
	case "Pass":
		result = eff
		if st.hasResult {
			result = st.result
		}
	case "Task":
		result, err = x.runTask(context.WithValue(ctx, taskTokenKey{}, token), th, st, eff, raw)
	case "Parallel":
		result, err = x.runParallel(ctx, th, st, eff)
	case "Map":
		result, err = x.runMap(ctx, th, st, eff, ctxObj)
	}
	if err != nil {
		return nil, err
	}
	if st.resultSelector != nil {
		if result, err = st.resultSelector.eval(result, ctxObj, x.env(result, ctxObj)); err != nil {
			return nil, err
		}
	}
	out, err := applyResultPath(st.resultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return applyInputPath(st.outputPath, out)
}
