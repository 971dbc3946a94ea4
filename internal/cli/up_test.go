package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/rules"
	"github.com/serverless-elt/elt/workflows"
)

// lockedBuffer is a bytes.Buffer safe for a command writing while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond (the command runs in real time) until it holds or a
// generous deadline passes.
func waitFor(t *testing.T, what string, stderr *lockedBuffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\nstderr:\n%s", what, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// `elt up` end to end: a bronze object dropped into the data dir is
// ingested and transformed, the transform's PartitionReady event starts
// the quality gate under the deterministic execution name, a duplicate of
// the event starts nothing, the Step Functions endpoint is advertised while
// it runs and withdrawn on exit.
func TestUpStartsQualityGateOnPartitionReady(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store := &engine.FileStore{Dir: filepath.Join(dir, "sfn")}
	gateArn := engine.StateMachineArn("quality-gate")
	registered := false
	for _, w := range workflows.All() {
		registered = registered || w.Name == "quality-gate"
	}
	if !registered {
		// Until the quality-gate workflow is in workflows.All(), a stand-in
		// under its name receives the rule's executions.
		if err := store.PutStateMachine(ctx, engine.StateMachineRecord{StateMachineArn: gateArn, Name: "quality-gate", Type: "STANDARD",
			Definition: `{"StartAt":"Gate","States":{"Gate":{"Type":"Pass","End":true}}}`}); err != nil {
			t.Fatal(err)
		}
	}
	bronze := filepath.Join(dir, "store", "bronze", "bronze", "shipments")
	os.MkdirAll(bronze, 0o755)
	records := `{"record_type":"shipments","event_id":"e1","shipment_id":"S1","origin":"A","destination":"B","carrier":"UPS","weight_kg":1.5,"event_time":"2025-01-01T10:00:00Z"}
{"record_type":"shipments","event_id":"e2","shipment_id":"S2","origin":"A","destination":"C","carrier":"DHL","weight_kg":2,"event_time":"2025-01-01T11:00:00Z"}
`
	if err := os.WriteFile(filepath.Join(bronze, "a.jsonl"), []byte(records), 0o644); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdout, stderr lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(runCtx, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}, []string{"up", "--data-dir", dir, "--settle", "0"})
	}()

	var xs []engine.Execution
	waitFor(t, "a quality-gate execution", &stderr, func() bool {
		xs, _ = store.ListExecutions(ctx, gateArn)
		return len(xs) > 0
	})
	endpoint, err := os.ReadFile(filepath.Join(dir, "sfn", "endpoint"))
	if err != nil || !strings.HasPrefix(string(endpoint), "http://127.0.0.1:") {
		t.Fatalf("endpoint file %q (%v)", endpoint, err)
	}

	// The execution is named after the event's partition and files.
	b, err := localbus.Open(filepath.Join(dir, "bus", "events.jsonl"), localbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	entries, _, err := b.Read(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ready []localbus.Entry
	for _, e := range entries {
		if e.DetailType == bus.DetailTypePartitionReady {
			ready = append(ready, e)
		}
	}
	if len(ready) != 1 {
		t.Fatalf("want one PartitionReady event, got %d", len(ready))
	}
	var d bus.PartitionReady
	if err := json.Unmarshal(ready[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	want := rules.QualityGateExecutionName(d)
	if len(xs) != 1 || xs[0].Name != want || !strings.HasPrefix(want, "qg-shipments-2025-01-01-") {
		t.Fatalf("executions %+v, want one named %s", xs, want)
	}
	var in map[string]any
	json.Unmarshal([]byte(xs[0].Input), &in)
	if in["record_type"] != "shipments" || in["dt"] != "2025-01-01" || in["silver_bucket"] != "silver" || in["silver_prefix"] != "silver/" {
		t.Fatalf("input %s", xs[0].Input)
	}

	// The same event again (EventBridge delivers at least once): no second run.
	if err := b.Put(ctx, []bus.Event{ready[0].Event}); err != nil {
		t.Fatal(err)
	}
	sub, err := b.Subscribe("rule-" + rules.QualityGateRule)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rule to consume the duplicate", &stderr, func() bool {
		pending, err := sub.Pending()
		return err == nil && !pending
	})
	if xs, _ := store.ListExecutions(ctx, gateArn); len(xs) != 1 {
		t.Fatalf("the duplicate event started another execution: %+v", xs)
	}

	// A second `elt up` on the data dir fails on its locks and leaves the
	// first one's endpoint advertised.
	var errb2 lockedBuffer
	if code := Run(ctx, Env{Stdout: &errb2, Stderr: &errb2}, []string{"up", "--data-dir", dir, "--lock-timeout", "100ms"}); code != ExitFailure {
		t.Fatalf("second elt up exit %d\n%s", code, errb2.String())
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "sfn", "endpoint")); string(again) != string(endpoint) {
		t.Fatalf("endpoint file %q after the second elt up, want %q", again, endpoint)
	}

	cancel()
	if code := <-exit; code != ExitOK {
		t.Fatalf("elt up exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "sfn", "endpoint")); !os.IsNotExist(err) {
		t.Fatalf("endpoint file left behind: %v", err)
	}
	if x, _ := store.GetExecution(ctx, engine.ExecutionArn("quality-gate", want)); x.Status == engine.StatusRunning {
		t.Fatalf("execution left RUNNING after elt up stopped")
	}
}

// A broken schedules file stops `elt up` before it starts, naming the field.
func TestUpRejectsBadSchedules(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "schedules.json"), []byte(`{"schedules":[{"name":"ops-daily","expression":"cron(0 3 * * * *)","enabled":true}]}`), 0o644)
	var stdout, stderr lockedBuffer
	code := Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, []string{"up", "--data-dir", dir})
	if code != ExitUsage || !strings.Contains(stderr.String(), "field 5 (day-of-week)") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "sfn", "endpoint")); !os.IsNotExist(err) {
		t.Fatalf("endpoint file left behind: %v", err)
	}
}

// A quality-gate run a killed process left RUNNING is closed ABORTED when
// `elt up` starts, and its partition is gated again by a fresh run.
func TestUpClosesOrphansAndRequeuesTheirGate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store := &engine.FileStore{Dir: filepath.Join(dir, "sfn")}
	gateArn := engine.StateMachineArn("quality-gate")
	registered := false
	for _, w := range workflows.All() {
		registered = registered || w.Name == "quality-gate"
	}
	if !registered {
		store.PutStateMachine(ctx, engine.StateMachineRecord{StateMachineArn: gateArn, Name: "quality-gate", Type: "STANDARD",
			Definition: `{"StartAt":"Gate","States":{"Gate":{"Type":"Pass","End":true}}}`})
	}
	orphan := engine.ExecutionArn("quality-gate", "qg-shipments-2025-02-01-000000000000")
	w, err := store.CreateExecution(ctx, engine.Execution{ExecutionArn: orphan, StateMachineArn: gateArn, Name: "qg-shipments-2025-02-01-000000000000",
		Status: engine.StatusRunning, StartDate: time.Now().UTC(),
		Input: `{"record_type":"shipments","dt":"2025-02-01","silver_bucket":"silver","silver_prefix":"silver/"}`})
	if err != nil {
		t.Fatal(err)
	}
	w.Event(engine.Event{ID: 1, Type: "ExecutionStarted", DetailsKey: "executionStartedEventDetails", Details: map[string]any{}})
	w.Close() // the process "dies"

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdout, stderr lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- Run(runCtx, Env{Stdout: &stdout, Stderr: &stderr}, []string{"up", "--data-dir", dir, "--settle", "0"})
	}()
	retry := rules.RetryExecutionName("shipments", "2025-02-01", "qg-shipments-2025-02-01-000000000000")
	waitFor(t, "the gate's re-run", &stderr, func() bool {
		_, err := store.GetExecution(ctx, engine.ExecutionArn("quality-gate", retry))
		return err == nil
	})
	x, _ := store.GetExecution(ctx, orphan)
	if x.Status != engine.StatusAborted || x.Error != "elt.ProcessExited" {
		t.Fatalf("orphan %+v", x)
	}
	cancel()
	if code := <-exit; code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}
