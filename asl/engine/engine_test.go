package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mustCompile(t testing.TB, def string) *Machine {
	t.Helper()
	m, err := Compile([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func execute(t testing.TB, e *Engine, m *Machine, input string) Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x, err := e.Execute(ctx, StartInput{Machine: m, Input: input})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func eventTypes(t testing.TB, e *Engine, arn string) []string {
	t.Helper()
	evs, err := e.Store().History(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

type NotReady struct{ Key string }

func (e *NotReady) Error() string { return "not ready: " + e.Key }

type namedErr struct{}

func (namedErr) Error() string     { return "throttled" }
func (namedErr) ErrorName() string { return "Transient.Throttled" }

type greetIn struct {
	Who string `json:"who"`
}
type greetOut struct {
	Greeting string `json:"greeting"`
}

// Typed handlers, error names from Go types (the aws-lambda-go rule) and
// the lambda:invoke result shape.
func TestTaskHandlersAndErrorNames(t *testing.T) {
	reg := NewRegistry()
	reg.Register("greet", Typed(func(ctx context.Context, in greetIn) (greetOut, error) {
		switch in.Who {
		case "typed":
			return greetOut{}, &NotReady{Key: "k"}
		case "plain":
			return greetOut{}, errors.New("plain failure")
		case "named":
			return greetOut{}, fmt.Errorf("wrapped: %w", namedErr{})
		case "asl":
			return greetOut{}, &Error{Name: "Custom.Error", Cause: "custom cause"}
		}
		return greetOut{Greeting: "Hello, " + in.Who + "!"}, nil
	}))
	e := New(Options{Tasks: reg})
	invoke := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:greet:$LATEST","Payload.$":"$"},"End":true}}}`)
	direct := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:greet","End":true}}}`)
	activity := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"greet","End":true}}}`)

	x := execute(t, e, invoke, `{"who":"AWS Step Functions"}`)
	if x.Status != StatusSucceeded {
		t.Fatalf("%+v", x)
	}
	var out map[string]any
	json.Unmarshal([]byte(*x.Output), &out)
	if out["StatusCode"] != float64(200) || out["Payload"].(map[string]any)["greeting"] != "Hello, AWS Step Functions!" {
		t.Fatalf("lambda:invoke output %s", *x.Output)
	}
	x = execute(t, e, direct, `{"who":"you"}`)
	if *x.Output != `{"greeting":"Hello, you!"}` {
		t.Fatalf("direct output %s", *x.Output)
	}
	cases := []struct {
		m          *Machine
		who        string
		name       string
		causeMatch string
	}{
		{invoke, "typed", "NotReady", `{"errorMessage":"not ready: k","errorType":"NotReady"}`},
		{invoke, "plain", "errorString", `{"errorMessage":"plain failure","errorType":"errorString"}`},
		{invoke, "named", "Transient.Throttled", `"errorType":"Transient.Throttled"`},
		{invoke, "asl", "Custom.Error", "custom cause"},
		{activity, "typed", "NotReady", "not ready: k"},
		{activity, "plain", "errorString", "plain failure"},
		{direct, "named", "Transient.Throttled", `"errorMessage":"wrapped: throttled"`},
	}
	for _, c := range cases {
		x := execute(t, e, c.m, `{"who":"`+c.who+`"}`)
		if x.Status != StatusFailed || x.Error != c.name || !strings.Contains(x.Cause, c.causeMatch) {
			t.Errorf("%s: got %s %q %q, want %q containing %q", c.who, x.Status, x.Error, x.Cause, c.name, c.causeMatch)
		}
	}
	// A function nobody registered is Lambda.ResourceNotFoundException.
	missing := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"nope"},"End":true}}}`)
	if x := execute(t, e, missing, `{}`); x.Error != "Lambda.ResourceNotFoundException" {
		t.Errorf("missing function: %+v", x)
	}
	// Input that does not decode into In.
	if x := execute(t, e, activity, `{"who":5}`); x.Error != "InvalidInput" {
		t.Errorf("bad input: %+v", x)
	}
}

// TimeoutSeconds and HeartbeatSeconds run off the virtual clock: a task
// that "takes" ten minutes times out at once and deterministically.
func TestTaskTimeoutAndHeartbeatOnVirtualClock(t *testing.T) {
	reg := NewRegistry()
	reg.Register("slow", func(ctx context.Context, in any) (any, error) {
		m := in.(map[string]any)
		steps, _ := m["steps"].(json.Number).Int64()
		each, _ := m["each"].(json.Number).Int64()
		for i := int64(0); i < steps; i++ {
			if err := Sleep(ctx, time.Duration(each)*time.Second); err != nil {
				return nil, err
			}
			if m["beat"] == true {
				Heartbeat(ctx)
			}
		}
		return "done", nil
	})
	e := New(Options{Tasks: reg})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"slow","TimeoutSeconds":100,"HeartbeatSeconds":40,
		"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"TaskFailed"},{"ErrorEquals":["States.ALL"],"Next":"Other"}],"End":true},
		"TaskFailed":{"Type":"Pass","Result":"task-failed","End":true},
		"Other":{"Type":"Pass","End":true}}}`
	m := mustCompile(t, def)
	cases := []struct {
		input, wantOut string
		seconds        float64
	}{
		{`{"steps":3,"each":30,"beat":true}`, `"done"`, 90},
		// States.TaskFailed matches every error but States.Timeout, so
		// it catches States.HeartbeatTimeout.
		{`{"steps":1,"each":50,"beat":true}`, `"task-failed"`, 40},
		{`{"steps":5,"each":30,"beat":true}`, `{"Cause":"Task 'T' did not complete within its TimeoutSeconds window.","Error":"States.Timeout"}`, 100},
	}
	for _, c := range cases {
		x := execute(t, e, m, c.input)
		if x.Status != StatusSucceeded || *x.Output != c.wantOut {
			t.Errorf("%s: %s %v", c.input, x.Status, *x.Output)
		}
		if got := x.StopDate.Sub(x.StartDate).Seconds(); got != c.seconds {
			t.Errorf("%s: took %v s, want %v", c.input, got, c.seconds)
		}
		if c.wantOut != `"done"` {
			types := eventTypes(t, e, x.ExecutionArn)
			if !contains(types, "TaskTimedOut") {
				t.Errorf("%s: no TaskTimedOut event in %v", c.input, types)
			}
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// StopExecution aborts a running execution; the run loop honours the
// cancellation and the history ends with ExecutionAborted.
func TestStopExecutionAborts(t *testing.T) {
	started := make(chan struct{})
	reg := NewRegistry()
	reg.Register("block", func(ctx context.Context, in any) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	e := New(Options{Tasks: reg, Clock: RealClock{}})
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"block","End":true}}}`)
	ctx := context.Background()
	run, err := e.StartExecution(ctx, StartInput{Machine: m, Name: "to-stop"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if _, err := e.StopExecution(ctx, run.Arn(), "Operator", "stopped by test"); err != nil {
		t.Fatal(err)
	}
	x, _ := run.Wait(ctx)
	if x.Status != StatusAborted || x.Error != "Operator" || x.Cause != "stopped by test" {
		t.Fatalf("%+v", x)
	}
	types := eventTypes(t, e, x.ExecutionArn)
	if types[len(types)-1] != "ExecutionAborted" {
		t.Fatalf("events %v", types)
	}
}

// Execution names are unique per state machine: a second start with the
// same name is refused with ExecutionAlreadyExists.
func TestExecutionAlreadyExists(t *testing.T) {
	e := New(Options{Store: &FileStore{Dir: t.TempDir()}})
	m := mustCompile(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	ctx := context.Background()
	if _, err := e.Execute(ctx, StartInput{Machine: m, StateMachineName: "sm", Name: "once"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.StartExecution(ctx, StartInput{Machine: m, StateMachineName: "sm", Name: "once"})
	if !errors.Is(err, ErrExecutionAlreadyExists) {
		t.Fatalf("second start: %v", err)
	}
	if _, err := e.StartExecution(ctx, StartInput{Machine: m, StateMachineName: "other", Name: "once"}); err != nil {
		t.Fatalf("same name on another state machine: %v", err)
	}
	if _, err := e.StartExecution(ctx, StartInput{Machine: m, Name: "bad/name"}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := e.StartExecution(ctx, StartInput{Machine: m, Input: "{nope"}); !errors.Is(err, ErrInvalidExecutionInput) {
		t.Fatalf("bad input: %v", err)
	}
}

// A second process reads status and history from the data directory.
func TestFileStoreReadableByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	e := New(Options{Store: &FileStore{Dir: dir}})
	m := mustCompile(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"F"},"F":{"Type":"Fail","Error":"E","Cause":"c"}}}`)
	x, err := e.Execute(context.Background(), StartInput{Machine: m, StateMachineName: "sm", Name: "n1", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	other := &FileStore{Dir: dir} // what `elt sfn history` opens
	got, err := other.GetExecution(context.Background(), x.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusFailed || got.Error != "E" || got.Input != `{"a":1}` || got.StopDate == nil {
		t.Fatalf("%+v", got)
	}
	evs, err := other.History(context.Background(), x.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, ev := range evs {
		types = append(types, ev.Type)
		if ev.ID != int64(i+1) || ev.PreviousEventID != int64(i) {
			t.Errorf("event %d: id %d previous %d", i, ev.ID, ev.PreviousEventID)
		}
	}
	want := []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "FailStateEntered", "ExecutionFailed"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v", types)
	}
	if evs[4].Details["error"] != "E" || evs[1].Details["name"] != "W" || evs[0].DetailsKey != "executionStartedEventDetails" {
		t.Fatalf("details %+v %+v", evs[4], evs[1])
	}
	list, err := other.ListExecutions(context.Background(), StateMachineArn("sm"))
	if err != nil || len(list) != 1 || list[0].Name != "n1" {
		t.Fatalf("list %v %v", list, err)
	}
	if _, err := other.GetExecution(context.Background(), ExecutionArn("sm", "nope")); !errors.Is(err, ErrExecutionDoesNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

// One compiled machine runs from many goroutines at once (run with -race).
func TestMachineIsSafeForConcurrentRuns(t *testing.T) {
	e := New(Options{})
	m := mustCompile(t, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($, 1)"},"End":true}}},"Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$[0].v","NumericEquals":2,"Next":"S"}],"Default":"F"},"S":{"Type":"Succeed"},"F":{"Type":"Fail"}}}`)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, err := e.Execute(context.Background(), StartInput{Machine: m, Input: `{"xs":[1,2,3]}`})
			if err == nil && x.Status == StatusSucceeded && *x.Output == `[{"v":2},{"v":3},{"v":4}]` {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 16 {
		t.Fatalf("%d of 16 runs succeeded", ok.Load())
	}
}

// MaxConcurrency bounds how many iterations run at once.
func TestMapMaxConcurrencyBoundsRealConcurrency(t *testing.T) {
	var inside, peak atomic.Int32
	reg := NewRegistry()
	gate := make(chan struct{})
	var once sync.Once
	reg.Register("work", func(ctx context.Context, in any) (any, error) {
		n := inside.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n == 3 {
			once.Do(func() { close(gate) }) // three inside at once: the bound is reachable
		}
		select {
		case <-gate:
		case <-ctx.Done():
		}
		inside.Add(-1)
		return in, nil
	})
	e := New(Options{Tasks: reg})
	m := mustCompile(t, `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":3,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"work","End":true}}},"End":true}}}`)
	x := execute(t, e, m, `[1,2,3,4,5,6,7,8,9]`)
	if x.Status != StatusSucceeded || *x.Output != `[1,2,3,4,5,6,7,8,9]` {
		t.Fatalf("%+v", x)
	}
	if peak.Load() != 3 {
		t.Fatalf("peak concurrency %d, want 3", peak.Load())
	}
}

func TestCompileRejects(t *testing.T) {
	cases := map[string]string{
		"not json":         `{`,
		"no StartAt":       `{"States":{"P":{"Type":"Pass","End":true}}}`,
		"missing target":   `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"}}}`,
		"unknown type":     `{"StartAt":"P","States":{"P":{"Type":"Nope","End":true}}}`,
		"next and end":     `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,"Next":"P"}}}`,
		"bad path":         `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"nope","End":true}}}`,
		"bad result path":  `{"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`,
		"bad operator":     `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","Foo":1,"Next":"C"}]}}}`,
		"bad jitter":       `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["E"],"JitterStrategy":"HALF"}],"End":true}}}`,
		"backoff below 1":  `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["E"],"BackoffRate":0.5}],"End":true}}}`,
		"bad template":     `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"nope"},"End":true}}}`,
		"jsonata":          `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
		"branch escapes":   `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Out"}}}],"Next":"Out"},"Out":{"Type":"Succeed"}}}`,
		"bad timestamp":    `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"tomorrow","End":true}}}`,
		"numeric literal":  `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"C"}]}}}`,
		"variables":        `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"x":1},"End":true}}}`,
		"catch without to": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`,
	}
	for name, def := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Compile([]byte(def)); err == nil {
				t.Fatal("compiled")
			}
		})
	}
}

// On the real clock, TimeoutSeconds and HeartbeatSeconds cancel the
// handler's context (ASL allows whole seconds only, so this test takes one
// second of wall time; both cases run at once).
func TestRealClockTimeouts(t *testing.T) {
	reg := NewRegistry()
	reg.Register("arn:aws:states:us-east-1:000000000000:activity:block", func(ctx context.Context, in any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	e := New(Options{Tasks: reg, Clock: RealClock{}})
	var wg sync.WaitGroup
	for _, c := range []struct{ field, want string }{
		{`"TimeoutSeconds":1`, ErrTimeout},
		{`"HeartbeatSeconds":1,"TimeoutSeconds":30`, ErrHeartbeatTimeout},
	} {
		m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:block",`+c.field+`,"End":true}}}`)
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, err := e.Execute(context.Background(), StartInput{Machine: m})
			if err != nil || x.Status != StatusFailed || x.Error != c.want {
				t.Errorf("%s: %v %s %s %s", c.field, err, x.Status, x.Error, x.Cause)
			}
		}()
	}
	wg.Wait()
}

// StartExecution with the name of an open execution and identical input
// returns that execution; different input, or a closed execution, is
// ExecutionAlreadyExists (StartExecution API reference).
func TestStartExecutionIdempotentWhileOpen(t *testing.T) {
	release := make(chan struct{})
	reg := NewRegistry()
	reg.Register("arn:aws:states:us-east-1:000000000000:activity:hold", func(ctx context.Context, in any) (any, error) {
		<-release
		return "released", nil
	})
	e := New(Options{Tasks: reg})
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:hold","End":true}}}`)
	ctx := context.Background()
	first, err := e.StartExecution(ctx, StartInput{Machine: m, Name: "job", Input: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.StartExecution(ctx, StartInput{Machine: m, Name: "job", Input: `{"a":1}`})
	if err != nil || again.Arn() != first.Arn() {
		t.Fatalf("identical start while open: %v", err)
	}
	if _, err := e.StartExecution(ctx, StartInput{Machine: m, Name: "job", Input: `{"a":2}`}); !errors.Is(err, ErrExecutionAlreadyExists) {
		t.Fatalf("different input: %v", err)
	}
	close(release)
	if x, _ := first.Wait(ctx); x.Status != StatusSucceeded {
		t.Fatalf("%+v", x)
	}
	if _, err := e.StartExecution(ctx, StartInput{Machine: m, Name: "job", Input: `{"a":1}`}); !errors.Is(err, ErrExecutionAlreadyExists) {
		t.Fatalf("closed execution: %v", err)
	}
}

func TestRawHandler(t *testing.T) {
	reg := NewRegistry()
	reg.Register("raw", Raw(func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"echo":` + string(in) + `}`), nil
	}))
	e := New(Options{Tasks: reg})
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:raw","End":true}}}`)
	x := execute(t, e, m, `{"n":123456789012345678901234567890}`)
	if x.Status != StatusSucceeded || *x.Output != `{"echo":{"n":123456789012345678901234567890}}` {
		t.Fatalf("%+v", x)
	}
}
