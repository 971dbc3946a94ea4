package rules

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/bus"
)

const gateDef = `{"StartAt":"Q","States":{"Q":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
 "Parameters":{"FunctionName":"quality","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`

// gate is a quality task that blocks until released, so a test controls
// when a run stops being RUNNING.
type gate struct {
	mu      sync.Mutex
	release map[string]chan struct{} // by dt
	inputs  []map[string]any
}

func (g *gate) handle(ctx context.Context, in map[string]any) (map[string]any, error) {
	g.mu.Lock()
	g.inputs = append(g.inputs, in)
	ch := g.release[in["dt"].(string)]
	g.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return map[string]any{"success": true}, nil
}

func newGateEngine(t *testing.T, g *gate) *engine.Engine {
	t.Helper()
	reg := engine.NewRegistry()
	reg.Register("quality", engine.Typed(g.handle))
	e := engine.New(engine.Options{Store: &engine.FileStore{Dir: t.TempDir()}, Tasks: reg})
	if err := e.Store().PutStateMachine(context.Background(), engine.StateMachineRecord{
		StateMachineArn: engine.StateMachineArn("quality-gate"), Name: "quality-gate", Definition: gateDef, Type: "STANDARD",
	}); err != nil {
		t.Fatal(err)
	}
	// Executions run on after a test's last assertion; end them before the
	// temp dir they write into is removed (cleanups run last-in first-out,
	// so this one runs before t.TempDir's).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, arn := range e.RunningExecutions() {
			e.StopExecution(ctx, arn, "test.Cleanup", "test ended")
			e.WaitExecution(ctx, arn)
		}
	})
	return e
}

func partitionEvent(t *testing.T, typ, dt string, files ...string) bus.Event {
	t.Helper()
	d, _ := json.Marshal(bus.PartitionReady{Bucket: "silver", RecordType: typ, Dt: dt, Prefix: "silver/" + typ + "/dt=" + dt + "/", Files: files, Rows: int64(len(files))})
	return bus.Event{Source: bus.Source, DetailType: bus.DetailTypePartitionReady, Detail: d, Time: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
}

func executions(t *testing.T, e *engine.Engine) []engine.Execution {
	t.Helper()
	xs, err := e.Store().ListExecutions(context.Background(), engine.StateMachineArn("quality-gate"))
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

func waitDone(t *testing.T, e *engine.Engine, name string) engine.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	x, err := e.WaitExecution(ctx, engine.ExecutionArn("quality-gate", name))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestQualityGateExecutionName(t *testing.T) {
	d := bus.PartitionReady{Bucket: "silver", RecordType: "shipments", Dt: "2024-05-01", Files: []string{"b", "a"}}
	n := QualityGateExecutionName(d)
	if !strings.HasPrefix(n, "qg-shipments-2024-05-01-") || len(n) != len("qg-shipments-2024-05-01-")+12 {
		t.Fatalf("name %q", n)
	}
	d2 := d
	d2.Files = []string{"a", "b"}
	if QualityGateExecutionName(d2) != n {
		t.Fatal("file order changes the name")
	}
	d2.Files = []string{"a", "b", "c"}
	if QualityGateExecutionName(d2) == n {
		t.Fatal("new files keep the name")
	}
	d2 = d
	d2.Bucket = "other"
	if QualityGateExecutionName(d2) == n {
		t.Fatal("the bucket is not in the name's hash")
	}
	long := bus.PartitionReady{Bucket: "b", RecordType: strings.Repeat("very_long_type_", 10) + "ü x/y", Dt: "2024-05-01T00:00:00:weird#", Files: []string{"f"}}
	for _, p := range []bus.PartitionReady{d, long, {}} {
		n := QualityGateExecutionName(p)
		if err := engine.CheckName(n); err != nil || len(n) > 80 {
			t.Errorf("name %q (%d chars) is not a valid execution name: %v", n, len(n), err)
		}
		if strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			t.Errorf("name %q has characters outside [A-Za-z0-9_-]", n)
		}
	}
}

func TestQualityGateInput(t *testing.T) {
	d := bus.PartitionReady{Bucket: "silver", RecordType: "shipments", Dt: "2024-05-01", Prefix: "lake/silver/shipments/dt=2024-05-01/"}
	in := QualityGateInput(d, "silver/")
	want := map[string]any{"record_type": "shipments", "dt": "2024-05-01", "silver_bucket": "silver", "silver_prefix": "lake/silver/"}
	b1, _ := json.Marshal(in)
	b2, _ := json.Marshal(want)
	if string(b1) != string(b2) {
		t.Fatalf("input %s, want %s", b1, b2)
	}
	d.Prefix = "odd"
	if QualityGateInput(d, "silver/")["silver_prefix"] != "silver/" {
		t.Fatal("no fallback to the default silver prefix")
	}
}

// One run per partition: a duplicate event is a no-op; new data while a run
// is RUNNING is parked and coalesced into one follow-up run, started by
// Flush once the first run ends; other partitions are not held up.
func TestQualityGateOneRunPerPartition(t *testing.T) {
	ctx := context.Background()
	g := &gate{release: map[string]chan struct{}{"2024-05-01": make(chan struct{})}}
	e := newGateEngine(t, g)
	q := &QualityGate{Exec: EngineExecutions{e}, PendingDir: filepath.Join(t.TempDir(), "pending")}
	rule := Rule{Name: QualityGateRule, Target: q}
	rule.Pattern, _ = CompilePattern(DefaultConfig(nil).Rules[0].EventPattern)
	deliver := func(ev bus.Event) {
		t.Helper()
		matched, err := rule.Deliver(ctx, ev)
		if err != nil || !matched {
			t.Fatalf("deliver: matched %v, %v", matched, err)
		}
	}

	e1 := partitionEvent(t, "shipments", "2024-05-01", "silver/shipments/dt=2024-05-01/part-a.parquet")
	deliver(e1)
	deliver(e1) // duplicate while running
	first := QualityGateExecutionName(mustDetail(t, e1))
	if xs := executions(t, e); len(xs) != 1 || xs[0].Name != first || xs[0].Status != engine.StatusRunning {
		t.Fatalf("after the first event: %+v", xs)
	}
	// New data for the same partition, twice, while the first run runs.
	e2 := partitionEvent(t, "shipments", "2024-05-01", "silver/shipments/dt=2024-05-01/part-b.parquet")
	e3 := partitionEvent(t, "shipments", "2024-05-01", "silver/shipments/dt=2024-05-01/part-c.parquet", "silver/shipments/dt=2024-05-01/part-b.parquet")
	deliver(e2)
	deliver(e3)
	deliver(e2) // redelivered
	// Another partition starts at once.
	other := partitionEvent(t, "shipments", "2024-05-02", "silver/shipments/dt=2024-05-02/part-x.parquet")
	deliver(other)
	if xs := executions(t, e); len(xs) != 2 {
		t.Fatalf("want the first run and the other partition's, got %+v", xs)
	}
	pend, _ := q.Pending()
	if len(pend) != 1 || len(pend[0].Files) != 2 {
		t.Fatalf("pending %+v", pend)
	}
	if n, err := q.Flush(ctx); n != 0 || err != nil {
		t.Fatalf("Flush while running started %d (%v)", n, err)
	}

	// A restart: a new target over the same pending dir still has the event.
	q = &QualityGate{Exec: EngineExecutions{e}, PendingDir: q.PendingDir}
	close(g.release["2024-05-01"])
	if x := waitDone(t, e, first); x.Status != engine.StatusSucceeded {
		t.Fatalf("first run %s", x.Status)
	}
	n, err := q.Flush(ctx)
	if n != 1 || err != nil {
		t.Fatalf("Flush started %d (%v)", n, err)
	}
	union := mustDetail(t, e3)
	union.Files = []string{"silver/shipments/dt=2024-05-01/part-b.parquet", "silver/shipments/dt=2024-05-01/part-c.parquet"}
	follow := QualityGateExecutionName(union)
	if x := waitDone(t, e, follow); x.Status != engine.StatusSucceeded {
		t.Fatalf("follow-up run %s", x.Status)
	}
	var in map[string]any
	x := waitDone(t, e, follow)
	json.Unmarshal([]byte(x.Input), &in)
	if in["record_type"] != "shipments" || in["dt"] != "2024-05-01" || in["silver_bucket"] != "silver" || in["silver_prefix"] != "silver/" {
		t.Fatalf("follow-up input %v", in)
	}
	if pend, _ := q.Pending(); len(pend) != 0 {
		t.Fatalf("pending left %+v", pend)
	}
	// The first event once more, after everything ended: a no-op.
	rule.Target = q
	deliver(e1)
	if n, _ := q.Flush(ctx); n != 0 {
		t.Fatal("flush after a duplicate started a run")
	}
	if xs := executions(t, e); len(xs) != 3 {
		t.Fatalf("want 3 executions, got %d: %+v", len(xs), xs)
	}
	// A bad event and an unrelated event.
	bad := bus.Event{Source: bus.Source, DetailType: bus.DetailTypePartitionReady, Detail: json.RawMessage(`{"x":1}`)}
	if _, err := rule.Deliver(ctx, bad); err != nil {
		t.Fatalf("a bad event fails the rule: %v", err)
	}
	unrelated := bus.Event{Source: "other", DetailType: "X", Detail: json.RawMessage(`{}`)}
	if matched, _ := rule.Deliver(ctx, unrelated); matched {
		t.Fatal("unrelated event matched")
	}
}

func mustDetail(t *testing.T, ev bus.Event) bus.PartitionReady {
	t.Helper()
	var d bus.PartitionReady
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// A run started by hand for the partition also holds the rule's run back.
func TestQualityGateSeesManualRuns(t *testing.T) {
	ctx := context.Background()
	g := &gate{release: map[string]chan struct{}{"2024-06-01": make(chan struct{})}}
	e := newGateEngine(t, g)
	if _, err := e.StartExecution(ctx, engine.StartInput{StateMachineArn: engine.StateMachineArn("quality-gate"), Name: "ge-manual", Input: `{"record_type":"tracking_events","dt":"2024-06-01"}`}); err != nil {
		t.Fatal(err)
	}
	q := &QualityGate{Exec: EngineExecutions{e}, PendingDir: t.TempDir()}
	if err := q.Deliver(ctx, nil, partitionEvent(t, "tracking_events", "2024-06-01", "f1")); err != nil {
		t.Fatal(err)
	}
	if xs := executions(t, e); len(xs) != 1 {
		t.Fatalf("started while a manual run is RUNNING: %+v", xs)
	}
	close(g.release["2024-06-01"])
	waitDone(t, e, "ge-manual")
	if n, err := q.Flush(ctx); n != 1 || err != nil {
		t.Fatalf("Flush %d %v", n, err)
	}
}

func TestStartExecutionTarget(t *testing.T) {
	ctx := context.Background()
	g := &gate{}
	e := newGateEngine(t, g)
	r := Rule{Name: "all-partitions", Target: &StartExecution{Exec: EngineExecutions{e}, StateMachine: "quality-gate", RuleName: "all-partitions"}}
	r.Pattern, _ = CompilePattern([]byte(`{"detail":{"rows":[{"numeric":[">",0]}]}}`))
	ev := partitionEvent(t, "shipments", "2024-05-01", "f")
	for i := 0; i < 2; i++ {
		if _, err := r.Deliver(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	xs := executions(t, e)
	if len(xs) != 1 || !strings.HasPrefix(xs[0].Name, "all-partitions-") {
		t.Fatalf("executions %+v", xs)
	}
	var in map[string]any
	json.Unmarshal([]byte(xs[0].Input), &in)
	if in["detail-type"] != "PartitionReady" || in["source"] != bus.Source {
		t.Fatalf("input is not the event envelope: %v", in)
	}
}

// A gate run aborted because its process stopped is requeued: the next
// Flush starts a fresh run for the partition under a retry name derived
// from the aborted run, once.
func TestQualityGateRequeueAborted(t *testing.T) {
	ctx := context.Background()
	g := &gate{release: map[string]chan struct{}{"2024-07-01": make(chan struct{})}}
	e := newGateEngine(t, g)
	q := &QualityGate{Exec: EngineExecutions{e}, PendingDir: t.TempDir()}
	ev := partitionEvent(t, "shipments", "2024-07-01", "f1")
	if err := q.Deliver(ctx, nil, ev); err != nil {
		t.Fatal(err)
	}
	name := QualityGateExecutionName(mustDetail(t, ev))
	arn := engine.ExecutionArn("quality-gate", name)
	if _, err := e.StopExecution(ctx, arn, "elt.Shutdown", "stopping"); err != nil {
		t.Fatal(err)
	}
	x := waitDone(t, e, name)
	if x.Status != engine.StatusAborted {
		t.Fatalf("status %s", x.Status)
	}
	close(g.release["2024-07-01"])
	for i := 0; i < 2; i++ { // requeued twice (e.g. a crash during shutdown): one run
		if ok, err := q.Requeue(x); !ok || err != nil {
			t.Fatalf("requeue: %v %v", ok, err)
		}
		if _, err := q.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	retry := RetryExecutionName("shipments", "2024-07-01", name)
	if r := waitDone(t, e, retry); r.Status != engine.StatusSucceeded {
		t.Fatalf("retry %s", r.Status)
	}
	var in map[string]any
	json.Unmarshal([]byte(waitDone(t, e, retry).Input), &in)
	if in["silver_prefix"] != "silver/" || in["record_type"] != "shipments" || in["dt"] != "2024-07-01" || in["silver_bucket"] != "silver" {
		t.Fatalf("retry input %v", in)
	}
	if xs := executions(t, e); len(xs) != 2 {
		t.Fatalf("executions %+v", xs)
	}
	if ok, _ := q.Requeue(engine.Execution{StateMachineArn: engine.StateMachineArn("quality-gate"), Input: `{"other":1}`}); ok {
		t.Fatal("requeued an execution without a partition")
	}
	if ok, _ := q.Requeue(engine.Execution{StateMachineArn: engine.StateMachineArn("ops"), Input: x.Input}); ok {
		t.Fatal("requeued an execution without a partition")
	}
}
