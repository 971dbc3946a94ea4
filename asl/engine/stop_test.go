package engine

import (
	"context"
	"testing"
	"time"
)

const blockingDef = `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
 "Parameters":{"FunctionName":"block","Payload.$":"$"},"End":true}}}`

// blockingEngine runs a task that blocks until its context ends (an abort).
func blockingEngine(t *testing.T, dir string, started chan<- struct{}) *Engine {
	t.Helper()
	reg := NewRegistry()
	reg.Register("block", Typed(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		if started != nil {
			started <- struct{}{}
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	return New(Options{Store: &FileStore{Dir: dir}, Tasks: reg, Clock: RealClock{}, StopPollInterval: 10 * time.Millisecond})
}

func lastEvent(t *testing.T, s Store, arn string) Event {
	t.Helper()
	evs, err := s.History(context.Background(), arn)
	if err != nil || len(evs) == 0 {
		t.Fatalf("history: %v (%d events)", err, len(evs))
	}
	return evs[len(evs)-1]
}

// StopExecution from an engine that does not run the execution (another
// process sharing the data dir's FileStore) aborts it in the engine that
// does: status ABORTED and an ExecutionAborted event with the error and
// cause, as the StopExecution API documents.
func TestStopExecutionAcrossEngines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	started := make(chan struct{}, 1)
	runner := blockingEngine(t, dir, started)
	stopper := blockingEngine(t, dir, nil)
	m, err := Compile([]byte(blockingDef))
	if err != nil {
		t.Fatal(err)
	}
	run, err := runner.StartExecution(ctx, StartInput{Machine: m, StateMachineName: "blocker", Name: "x1", Input: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	stop, err := stopper.StopExecution(ctx, run.Arn(), "Operator.Stop", "stopped from another process")
	if err != nil {
		t.Fatal(err)
	}
	x, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != StatusAborted || x.Error != "Operator.Stop" || x.Cause != "stopped from another process" {
		t.Fatalf("execution %+v", x)
	}
	if x.StopDate == nil || !x.StopDate.Equal(stop) {
		t.Fatalf("stop date %v, StopExecution returned %v", x.StopDate, stop)
	}
	ev := lastEvent(t, runner.Store(), run.Arn())
	if ev.Type != "ExecutionAborted" || ev.DetailsKey != "executionAbortedEventDetails" || ev.Details["error"] != "Operator.Stop" || ev.Details["cause"] != "stopped from another process" {
		t.Fatalf("last event %+v", ev)
	}
	// Stopping it again returns the same stop date.
	again, err := stopper.StopExecution(ctx, run.Arn(), "x", "y")
	if err != nil || !again.Equal(stop) {
		t.Fatalf("second stop: %v %v", again, err)
	}
}

// An execution left RUNNING by a process that died (its history lock is
// free) is closed ABORTED by the stopper itself, and by AbortOrphans.
func TestStopOrphanedExecution(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := &FileStore{Dir: dir}
	orphan := func(sm, name string) string {
		arn := ExecutionArn(sm, name)
		w, err := s.CreateExecution(ctx, Execution{ExecutionArn: arn, StateMachineArn: StateMachineArn(sm), Name: name, Status: StatusRunning, StartDate: time.Now().UTC(), Input: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		w.Event(Event{ID: 1, Type: "ExecutionStarted", DetailsKey: "executionStartedEventDetails", Details: map[string]any{"input": "{}"}})
		w.Event(Event{ID: 2, PreviousEventID: 1, Type: "TaskStateEntered", DetailsKey: "stateEnteredEventDetails", Details: map[string]any{"name": "Work"}})
		w.Close() // the "process" dies: lock released, record still RUNNING
		return arn
	}
	a := orphan("blocker", "dead1")
	e := blockingEngine(t, dir, nil)
	if _, err := e.StopExecution(ctx, a, "", "operator"); err != nil {
		t.Fatal(err)
	}
	x, _ := s.GetExecution(ctx, a)
	ev := lastEvent(t, s, a)
	if x.Status != StatusAborted || ev.Type != "ExecutionAborted" || ev.ID != 3 || ev.PreviousEventID != 2 {
		t.Fatalf("record %+v, last event %+v", x, ev)
	}

	b := orphan("blocker", "dead2")
	c := orphan("other", "dead3")
	// A live execution is not an orphan.
	started := make(chan struct{}, 1)
	live := blockingEngine(t, dir, started)
	m, _ := Compile([]byte(blockingDef))
	run, err := live.StartExecution(ctx, StartInput{Machine: m, StateMachineName: "blocker", Name: "alive"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	got, err := s.AbortOrphans(ctx, "elt.ProcessExited", "the process running the execution exited", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !(got[0] == b && got[1] == c || got[0] == c && got[1] == b) {
		t.Fatalf("AbortOrphans closed %v, want %s and %s", got, b, c)
	}
	if x := run.Execution(); x.Status != StatusRunning {
		t.Fatalf("live execution %s", x.Status)
	}
	live.StopExecution(ctx, run.Arn(), "", "")
	if ev := lastEvent(t, s, c); ev.Type != "ExecutionAborted" || ev.Details["error"] != "elt.ProcessExited" {
		t.Fatalf("orphan's last event %+v", ev)
	}
}
