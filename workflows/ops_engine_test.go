package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl"
	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/objstore"
)

// Runs the generated ops definition on the local engine (virtual clock, so
// the Wait states take no real time) over a real object store holding the
// bronze listing the Replay Map reads, with fake Lambda functions and a
// fake notifier, the way temporalio's workflow test suite mocks activities.
// tasks/replay's end-to-end test runs it with the real handlers.

type opsFakes struct {
	objects     int // bronze objects listed under src_prefix
	copied      int // what each replay batch reports
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
		return map[string]any{"listed": 3, "in_window": f.copied, "copied": f.copied, "skipped_copies": 0}, nil
	})
	r.Register("silverpoll", func(_ context.Context, in any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		i := min(len(f.polls), len(f.pollReady)-1)
		f.polls = append(f.polls, in.(map[string]any))
		ready := f.pollReady[i]
		landed := 0
		missing := []any{"bronze/replay/manual/run-1/shipments/0.jsonl"}
		if ready {
			landed, missing = 2, []any{}
		}
		return map[string]any{"ready": ready, "expected_objects": 2, "landed_objects": landed, "rows": 10 * landed, "missing": missing}, nil
	})
}

const opsTestInput = `{"bronze_bucket":"bronze-bkt","src_prefix":"bronze/shipments/","dest_prefix_base":"bronze/replay/manual",
"window_hours":24,"silver_bucket":"silver-bkt","silver_prefix":"silver/","poll_interval_seconds":30,"max_attempts":3}`

var opsEpoch = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)

func runOps(t *testing.T, f *opsFakes) (engine.Execution, *fakeNotifier) {
	t.Helper()
	arn := func(fn string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + fn }
	m := compileBound(t, OpsReplayQuality(), map[string]string{
		"validate_input_function_arn": arn("validate_input"),
		"replay_function_arn":         arn("replay"),
		"silverpoll_function_arn":     arn("silverpoll"),
		"notification_topic_arn":      "arn:aws:sns:us-east-1:000000000000:ops",
	})
	// The fake tasks copy nothing, so the store only lists (the Replay
	// Map's ItemReader); tasks/replay's end-to-end test uses the real one.
	store := &listing{}
	for i := 0; i < f.objects; i++ {
		store.objs = append(store.objs, objstore.ObjectInfo{Bucket: "bronze-bkt", Key: fmt.Sprintf("bronze/shipments/%04d.jsonl", i),
			ETag: fmt.Sprintf("%032x", i), Size: 3, LastModified: opsEpoch.Add(-time.Hour)})
	}
	notifier := &fakeNotifier{}
	eng := engine.New(engine.Options{Clock: &engine.VirtualClock{Epoch: opsEpoch}, Services: engine.Services{Notifier: notifier, Objects: store}, Seed: 1})
	f.register(eng.Tasks())
	x, err := eng.Execute(context.Background(), engine.StartInput{Machine: m, StateMachineName: OpsName, Name: "run-1", Input: opsTestInput})
	if err != nil {
		t.Fatal(err)
	}
	return x, notifier
}

// listing is an object store that only lists (pages of 1000, like S3).
type listing struct {
	objstore.Store
	objs []objstore.ObjectInfo
}

func (l *listing) List(_ context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	start := 0
	if opts.ContinuationToken != "" {
		fmt.Sscan(opts.ContinuationToken, &start)
	}
	var page objstore.ListPage
	for i := start; i < len(l.objs); i++ {
		o := l.objs[i]
		if o.Bucket != bucket || !strings.HasPrefix(o.Key, opts.Prefix) {
			continue
		}
		if len(page.Objects) == 1000 {
			page.NextContinuationToken = fmt.Sprint(i)
			break
		}
		page.Objects = append(page.Objects, o)
	}
	return page, nil
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
		{"ready on third poll", &opsFakes{objects: 3, copied: 2, pollReady: []bool{false, false, true}}, "SUCCEEDED", "", "", 3, 1, 0},
		{"two batches of the listing", &opsFakes{objects: opsReplayBatchItems + 1, copied: 1, pollReady: []bool{true}}, "SUCCEEDED", "", "", 1, 2, 0},
		{"attempts exhausted", &opsFakes{objects: 3, copied: 2, pollReady: []bool{false}}, "FAILED", ErrSilverNotReady,
			`0 of 2 replayed objects landed in s3://silver-bkt/silver/ after 3 polls; not yet: ["bronze/replay/manual/run-1/shipments/0.jsonl"]`, 3, 1, 1},
		{"nothing in the window", &opsFakes{objects: 3, copied: 0, pollReady: []bool{false}}, "SUCCEEDED", "", "", 0, 1, 0},
		{"nothing listed", &opsFakes{objects: 0, pollReady: []bool{false}}, "SUCCEEDED", "", "", 0, 0, 0},
		{"transient replay error is retried", &opsFakes{objects: 3, copied: 2, pollReady: []bool{true}, replayErrs: []error{&namedErr{"Lambda.TooManyRequestsException", "rate exceeded"}}}, "SUCCEEDED", "", "", 1, 2, 0},
		// A batch's own error fails its child execution; with
		// ToleratedFailurePercentage 0 the Map run fails
		// (States.ExceedToleratedFailureThreshold), caught to the notification.
		{"replay's own error is not retried", &opsFakes{objects: 3, copied: 2, pollReady: []bool{true}, replayErrs: []error{&namedErr{"Replay.InvalidInput", "dest_prefix_base must be below the bronze prefix"}}},
			"FAILED", "States.ExceedToleratedFailureThreshold", "", 0, 1, 1},
		{"invalid input stops before replay", &opsFakes{objects: 3, pollReady: []bool{true}, validateErr: &namedErr{"ValidateInput.InvalidInput", "/window_hours: required"}}, "FAILED", "ValidateInput.InvalidInput", "/window_hours: required", 0, 0, 1},
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
			if v["schema"] != "ops_input.schema.json" || v["input"].(map[string]any)["src_prefix"] != "bronze/shipments/" {
				t.Errorf("validate got %v", v)
			}
			items := 0
			for _, r := range f.replays {
				bi := r["BatchInput"].(map[string]any)
				if bi["execution_name"] != "run-1" || bi["execution_start"] != opsEpoch.Format(time.RFC3339Nano) ||
					bi["request"].(map[string]any)["dest_prefix_base"] != "bronze/replay/manual" {
					t.Errorf("batch input %v", bi)
				}
				its := r["Items"].([]any)
				items += len(its)
				it := its[0].(map[string]any)
				if !strings.HasPrefix(it["Key"].(string), "bronze/shipments/") || !strings.HasPrefix(it["Etag"].(string), `"`) ||
					it["LastModified"] != json.Number(fmt.Sprint(opsEpoch.Add(-time.Hour).Unix())) {
					t.Errorf("item %v", it)
				}
			}
			if tt.status == "SUCCEEDED" && items != f.objects && tt.replayCalls > 0 {
				t.Errorf("batches carried %d items, want %d", items, f.objects)
			}
			for _, p := range f.polls {
				if p["execution_name"] != "run-1" || p["silver_bucket"] != "silver-bkt" || p["silver_prefix"] != "silver/" {
					t.Errorf("poll got %v", p)
				}
			}
			if x.Status == "SUCCEEDED" {
				var out map[string]any
				if err := json.Unmarshal([]byte(*x.Output), &out); err != nil {
					t.Fatal(err)
				}
				if out["bronze_bucket"] != "bronze-bkt" {
					t.Errorf("output %s", *x.Output)
				}
				if tt.polls == 0 {
					if note, _ := out["replay"].(map[string]any)["note"].(string); !strings.HasPrefix(note, "nothing to replay") {
						t.Errorf("no note: %s", *x.Output)
					}
				} else if out["attempt"].(map[string]any)["count"] != float64(tt.polls) || out["poll"].(map[string]any)["Payload"].(map[string]any)["ready"] != true {
					t.Errorf("output %s", *x.Output)
				}
			}
		})
	}
}

// TestOpsReplayMap: the replay runs as a distributed Map over the bronze
// listing; the Map fails on any failed batch and is caught to the
// notification; its item task retries Lambda transients only.
func TestOpsReplayMap(t *testing.T) {
	sm, err := OpsReplayQuality().Build()
	if err != nil {
		t.Fatal(err)
	}
	m := sm.States.Get("Replay")
	if m == nil || m.Type != asl.TypeMap || m.ItemProcessor == nil || m.ItemProcessor.ProcessorConfig.Mode != asl.ModeDistributed {
		t.Fatalf("Replay is not a distributed Map: %+v", m)
	}
	if m.ItemReader == nil || m.ItemReader.Resource != "arn:aws:states:::s3:listObjectsV2" || m.ItemBatcher == nil || m.ItemBatcher.BatchInput == nil {
		t.Fatalf("Replay reads %+v, batches %+v", m.ItemReader, m.ItemBatcher)
	}
	if m.ToleratedFailurePercentage == nil || *m.ToleratedFailurePercentage != 0 || m.MaxConcurrency == nil || *m.MaxConcurrency < 1 {
		t.Fatalf("tolerated %v, concurrency %v", m.ToleratedFailurePercentage, m.MaxConcurrency)
	}
	if len(m.Catch) != 1 || m.Catch[0].Next != "NotifyFailure" {
		t.Fatalf("catch %+v", m.Catch)
	}
	item := m.ItemProcessor.States.Get("ReplayBatch")
	if item == nil || len(item.Retry) != 2 {
		t.Fatalf("item task %+v", item)
	}
	// Lambda's transient errors and the task's own store outage, nothing
	// else (an invalid input or a changed source is not retried).
	for _, r := range item.Retry {
		for _, e := range r.ErrorEquals {
			if !strings.HasPrefix(e, "Lambda.") && e != "Replay.StoreUnavailable" {
				t.Errorf("item task retries %s", e)
			}
		}
	}
	if got := item.Retry[1].ErrorEquals; len(got) != 1 || got[0] != "Replay.StoreUnavailable" {
		t.Errorf("item task's second retrier %v, want [Replay.StoreUnavailable]", got)
	}
}
