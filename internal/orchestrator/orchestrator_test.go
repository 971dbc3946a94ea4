package orchestrator

import (
	"context"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/asl/engine/sfnlocal"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/sfnclient"
	"github.com/serverless-elt/elt/workflows"
)

func TestBind(t *testing.T) {
	bind := Bindings(embedded.Config{})
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: `{"F":"${replay_function_arn}"}`, want: `{"F":"replay"}`},
		{in: `{"T":"${notification_topic_arn}"}`, want: `{"T":"` + TopicArn + `"}`},
		{in: `{"S":"${ops_replay_quality_state_machine_arn}"}`, want: `{"S":"` + engine.StateMachineArn(workflows.OpsName) + `"}`},
		{in: `{"B":"${silver_bucket}"}`, want: `{"B":"silver"}`},
		{in: `{"X":"${mystery}"}`, err: "mystery"},
		{in: `{"X":"$.plain"}`, want: `{"X":"$.plain"}`},
	} {
		got, err := Bind([]byte(tc.in), bind)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Bind(%s): err %v, want one naming %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("Bind(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// Every workflow is registered with no placeholder left, and a second
// process (a second Open) sees the same state machines over the API.
func TestOpenRegistersWorkflowsAndServes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, err := Open(ctx, Config{Stack: embedded.Config{DataDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	sms, err := o.Engine().Store().ListStateMachines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sms) != len(workflows.All()) {
		t.Fatalf("%d state machines registered, want %d", len(sms), len(workflows.All()))
	}
	for _, sm := range sms {
		if strings.Contains(sm.Definition, "${") {
			t.Errorf("%s keeps a placeholder", sm.Name)
		}
	}
	ep, err := o.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ReadEndpoint(dir); got != ep {
		t.Fatalf("endpoint file %q, want %q", got, ep)
	}
	c := sfnclient.New(sfnlocal.Client(ep), sfnclient.Options{})
	for _, w := range workflows.All() {
		arn, err := c.StateMachineArn(ctx, w.Name)
		if err != nil || arn != engine.StateMachineArn(w.Name) {
			t.Errorf("StateMachineArn(%s) = %q, %v", w.Name, arn, err)
		}
	}
	// Reopening (another process, or a newer binary) keeps the registration.
	o2, err := Open(ctx, Config{Stack: embedded.Config{DataDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	o2.Close()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ReadEndpoint(dir); got != "" {
		t.Fatalf("endpoint file left behind: %q", got)
	}
}

// A registered definition that differs from the current workflow is
// replaced (a data dir created by an older binary).
func TestRegisterReplacesStaleDefinition(t *testing.T) {
	ctx := context.Background()
	store := &engine.FileStore{Dir: t.TempDir()}
	w := workflows.All()[0]
	stale := engine.StateMachineRecord{StateMachineArn: engine.StateMachineArn(w.Name), Name: w.Name, Type: "STANDARD",
		Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`}
	if err := store.PutStateMachine(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if err := RegisterWorkflows(ctx, store, Bindings(embedded.Config{})); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetStateMachine(ctx, stale.StateMachineArn)
	if err != nil {
		t.Fatal(err)
	}
	if got.Definition == stale.Definition {
		t.Fatal("stale definition kept")
	}
}
