package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-elt/elt/asl"
	"github.com/serverless-elt/elt/asl/engine"
)

// Runs the generated ops definition on the local engine (virtual clock, so
// the Wait states take no real time) with fake Lambda functions and a fake
// notifier, the way temporalio's workflow test suite mocks activities.

type fakeNotifier struct {
	mu       sync.Mutex
	subjects []string
	messages []string
}

func (n *fakeNotifier) Publish(_ context.Context, subject, message string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subjects = append(n.subjects, subject)
	n.messages = append(n.messages, message)
	return fmt.Sprintf("msg-%d", len(n.messages)), nil
}

type opsFakes struct {
	validateErr error
	replayErrs  []error // returned by successive replay calls, then success
	pollReady   []bool  // successive poll answers; the last repeats

	mu          sync.Mutex
	validated   []any
	replays     []map[string]any
	polls       []map[string]any
	replayCalls int
}

func (f *opsFakes) register(r *engine.Registry) {
	r.Register("validate_input", func(_ context.Context, in any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.validated = append(f.validated, in)
		if f.validateErr != nil {
			return nil, f.validateErr
		}
		return map[string]any{"valid": true}, nil
	})
	r.Register("replay", func(_ context.Context, in any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.replayCalls++
		if len(f.replayErrs) >= f.replayCalls && f.replayErrs[f.replayCalls-1] != nil {
			return nil, f.replayErrs[f.replayCalls-1]
		}
		f.replays = append(f.replays, in.(map[string]any))
		return map[string]any{"objects_copied": 3}, nil
	})
	r.Register("silverpoll", func(_ context.Context, in any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		i := min(len(f.polls), len(f.pollReady)-1)
		f.polls = append(f.polls, in.(map[string]any))
		return map[string]any{"ready": f.pollReady[i], "parquet_objects": len(f.polls)}, nil
	})
}

const opsTestInput = `{"bronze_bucket":"bronze-bkt","src_prefix":"bronze/shipments/","dest_prefix_base":"bronze/replay/manual",
"window_hours":24,"silver_bucket":"silver-bkt","silver_prefix":"silver","record_type":"shipments",
"min_parquet_objects":1,"poll_interval_seconds":30,"max_attempts":3}`

func runOps(t *testing.T, f *opsFakes) (engine.Execution, *fakeNotifier) {
	t.Helper()
	def, err := OpsReplayQuality().Definition()
	if err != nil {
		t.Fatal(err)
	}
	arn := func(fn string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + fn }
	def, err = asl.Substitute(def, map[string]string{
		"validate_input_function_arn": arn("validate_input"),
		"replay_function_arn":         arn("replay"),
		"silverpoll_function_arn":     arn("silverpoll"),
		"notification_topic_arn":      "arn:aws:sns:us-east-1:000000000000:ops",
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	notifier := &fakeNotifier{}
	eng := engine.New(engine.Options{Services: engine.Services{Notifier: notifier}, Seed: 1})
	f.register(eng.Tasks())
	x, err := eng.Execute(context.Background(), engine.StartInput{Machine: m, StateMachineName: OpsName, Name: "run-1", Input: opsTestInput})
	if err != nil {
		t.Fatal(err)
	}
	return x, notifier
}

type namedErr struct{ name, cause string }

func (e *namedErr) Error() string     { return e.cause }
func (e *namedErr) ErrorName() string { return e.name }

func TestOpsOnEngine(t *testing.T) {
	tests := []struct {
		name        string
		fakes       *opsFakes
		status      string
		errName     string
		causeHas    string
		polls       int
		replayCalls int
		notified    int
	}{
		{"ready on third poll", &opsFakes{pollReady: []bool{false, false, true}}, "SUCCEEDED", "", "", 3, 1, 0},
		{"attempts exhausted", &opsFakes{pollReady: []bool{false}}, "FAILED", ErrSilverNotReady, "no new shipments Parquet under s3://silver-bkt/silver after 3 polls", 3, 1, 1},
		{"transient replay error is retried", &opsFakes{pollReady: []bool{true}, replayErrs: []error{&namedErr{"Lambda.TooManyRequestsException", "rate exceeded"}}}, "SUCCEEDED", "", "", 1, 2, 0},
		{"replay's own error is not retried", &opsFakes{pollReady: []bool{true}, replayErrs: []error{&namedErr{"Replay.NoObjects", "nothing in the window"}}}, "FAILED", "Replay.NoObjects", "nothing in the window", 0, 1, 1},
		{"invalid input stops before replay", &opsFakes{pollReady: []bool{true}, validateErr: &namedErr{"Input.Invalid", "/window_hours: required"}}, "FAILED", "Input.Invalid", "/window_hours: required", 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, n := runOps(t, tt.fakes)
			if x.Status != tt.status || x.Error != tt.errName || !strings.Contains(x.Cause, tt.causeHas) {
				t.Fatalf("status %s error %q cause %q; want %s %q containing %q", x.Status, x.Error, x.Cause, tt.status, tt.errName, tt.causeHas)
			}
			f := tt.fakes
			if len(f.polls) != tt.polls || f.replayCalls != tt.replayCalls || len(n.messages) != tt.notified {
				t.Fatalf("polls %d replay calls %d notifications %d; want %d %d %d", len(f.polls), f.replayCalls, len(n.messages), tt.polls, tt.replayCalls, tt.notified)
			}
			if tt.notified > 0 {
				if n.subjects[0] != "elt ops-replay-quality failed" || !strings.Contains(n.messages[0], tt.errName) {
					t.Errorf("notification %q %q", n.subjects[0], n.messages[0])
				}
			}
			if len(f.validated) != 1 {
				t.Fatalf("validate called %d times", len(f.validated))
			}
			v := f.validated[0].(map[string]any)
			if v["schema"] != "ops_input.schema.json" || v["input"].(map[string]any)["record_type"] != "shipments" {
				t.Errorf("validate got %v", v)
			}
			if len(f.replays) > 0 {
				r := f.replays[0]
				if r["dest_prefix"] != "bronze/replay/manual/run-1" || r["request"].(map[string]any)["src_prefix"] != "bronze/shipments/" {
					t.Errorf("replay got %v", r)
				}
			}
			if x.Status == "SUCCEEDED" {
				var out map[string]any
				if err := json.Unmarshal([]byte(*x.Output), &out); err != nil {
					t.Fatal(err)
				}
				if out["attempt"].(map[string]any)["count"] != float64(tt.polls) || out["bronze_bucket"] != "bronze-bkt" {
					t.Errorf("output %s", *x.Output)
				}
				if out["replay"].(map[string]any)["Payload"].(map[string]any)["objects_copied"] != float64(3) {
					t.Errorf("replay result not kept: %s", *x.Output)
				}
			}
		})
	}
}
