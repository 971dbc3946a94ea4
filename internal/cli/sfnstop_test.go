package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
)

// `elt sfn stop` stops an execution another engine (another process on the
// data dir) is running: it ends ABORTED with ExecutionAborted.
func TestSfnStopAcrossProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	started := make(chan struct{}, 1)
	reg := engine.NewRegistry()
	reg.Register("block", engine.Typed(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	e := engine.New(engine.Options{Store: &engine.FileStore{Dir: filepath.Join(dir, "sfn")}, Tasks: reg, Clock: engine.RealClock{}, StopPollInterval: 10 * time.Millisecond})
	m, err := engine.Compile([]byte(`{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"block"},"End":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.StartExecution(ctx, engine.StartInput{Machine: m, StateMachineName: "blocker", Name: "to-stop"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	code, out, stderr := sfnCLI(t, dir, "sfn", "stop", run.Arn(), "--error", "Operator.Stop", "--cause", "by hand")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var x ExecutionJSON
	if err := json.Unmarshal([]byte(out), &x); err != nil || x.Status != engine.StatusAborted || x.Error != "Operator.Stop" || x.Cause != "by hand" {
		t.Fatalf("output %s (%v)", out, err)
	}
	if got, _ := run.Wait(ctx); got.Status != engine.StatusAborted {
		t.Fatalf("runner sees %s", got.Status)
	}
	code, out, _ = sfnCLI(t, dir, "sfn", "history", run.Arn(), "--output", "json")
	var h struct{ Events []engine.Event }
	if code != ExitOK || json.Unmarshal([]byte(out), &h) != nil || h.Events[len(h.Events)-1].Type != "ExecutionAborted" {
		t.Fatalf("history %d %s", code, out)
	}
	if code, _, _ := sfnCLI(t, dir, "sfn", "stop", "not-an-arn"); code != ExitUsage {
		t.Fatalf("bad arn exit %d", code)
	}
	if code, _, _ := sfnCLI(t, dir, "sfn", "stop", engine.ExecutionArn("blocker", "nope")); code != ExitFailure {
		t.Fatalf("unknown execution exit %d", code)
	}
}
