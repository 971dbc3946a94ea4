package sfnclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/sfnclient"
)

// The client runs against our local Step Functions endpoint (sfnlocal over
// the local engine) on loopback, through the same SDK calls it makes to AWS.

const definition = `{"StartAt":"Check","States":{
  "Check":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":false,"Next":"Fail"}],"Default":"Shape"},
  "Shape":{"Type":"Pass","Parameters":{"partition.$":"$.dt","rows":3},"End":true},
  "Fail":{"Type":"Fail","Error":"Quality.Failed","Cause":"3 expectations failed"}}}`

func setup(t *testing.T) (*sfnclient.Client, string) {
	t.Helper()
	ctx := context.Background()
	sf, err := awstest.StartStepFunctions(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.Close)
	sm, err := sf.CreateStateMachine(ctx, "quality-gate", definition)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sf.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return sfnclient.New(sfnclient.NewClient(cfg), sfnclient.Options{Poll: time.Millisecond, MaxPoll: 10 * time.Millisecond}), sm
}

func TestStartWaitHistory(t *testing.T) {
	ctx := context.Background()
	c, sm := setup(t)
	if got, err := c.StateMachineArn(ctx, "quality-gate"); err != nil || got != sm {
		t.Fatalf("StateMachineArn = %q, %v; want %q", got, err, sm)
	}
	if _, err := c.StateMachineArn(ctx, "nope"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("StateMachineArn(nope): %v", err)
	}
	cases := []struct {
		name, input, status, output, errName string
		lastEvent                            string
	}{
		{"pass-1", `{"ok":true,"dt":"2026-01-02"}`, sfnclient.StatusSucceeded, `{"partition":"2026-01-02","rows":3}`, "", "ExecutionSucceeded"},
		{"fail-1", `{"ok":false}`, sfnclient.StatusFailed, "", "Quality.Failed", "ExecutionFailed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arn, err := c.Start(ctx, sm, tc.name, json.RawMessage(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			x, err := c.Wait(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			if x.Status != tc.status || x.Name != tc.name || x.StateMachineArn != sm || x.Error != tc.errName {
				t.Fatalf("execution %+v", x)
			}
			if tc.output != "" {
				var got, want any
				json.Unmarshal(x.Output, &got)
				json.Unmarshal([]byte(tc.output), &want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("output %s, want %s", x.Output, tc.output)
				}
			}
			h, err := c.History(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) < 3 || h[0].Type != "ExecutionStarted" || h[len(h)-1].Type != tc.lastEvent || h[0].ID != 1 {
				t.Fatalf("history %+v", h)
			}
			if tc.errName != "" && !strings.Contains(string(h[len(h)-1].Details), tc.errName) {
				t.Errorf("last event details %s, want the error", h[len(h)-1].Details)
			}
			// Names are unique per state machine: a second start is refused.
			if _, err := c.Start(ctx, sm, tc.name, json.RawMessage(`{"ok":true,"dt":"x"}`)); !fault.Is(err, fault.AlreadyExists) {
				t.Fatalf("second start with name %s: %v, want AlreadyExists", tc.name, err)
			}
		})
	}
	all, err := c.List(ctx, sm, "", 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("List all: %d %v", len(all), err)
	}
	failed, err := c.List(ctx, sm, sfnclient.StatusFailed, 0)
	if err != nil || len(failed) != 1 || failed[0].Name != "fail-1" {
		t.Fatalf("List FAILED: %+v %v", failed, err)
	}
	if one, err := c.List(ctx, sm, "", 1); err != nil || len(one) != 1 {
		t.Fatalf("List limit 1: %d %v", len(one), err)
	}
	if _, err := c.Describe(ctx, strings.Replace(all[0].Arn, all[0].Name, "missing", 1)); !fault.Is(err, fault.NotFound) {
		t.Fatalf("Describe missing: %v", err)
	}
	if _, err := c.Start(ctx, sm, "bad-input", json.RawMessage(`{not json`)); !fault.Is(err, fault.InvalidArgument) {
		t.Fatalf("Start with bad input: %v", err)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	c, sm := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Wait(ctx, sm+":never")
	if err == nil || fault.CodeOf(err) != fault.Canceled {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
}
