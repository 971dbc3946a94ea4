package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/serverless-elt/elt/asl/engine/mockconfig"
)

// The documented back-off: IntervalSeconds * BackoffRate^(attempt-1),
// capped by MaxDelaySeconds; FULL jitter draws from [0, delay].
// ("Handling errors in Step Functions workflows", Retry fields.)
func TestRetryDelayProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := Retrier{
			IntervalSeconds: float64(rapid.IntRange(1, 100).Draw(t, "interval")),
			BackoffRate:     1 + float64(rapid.IntRange(0, 40).Draw(t, "rate10"))/10,
			MaxDelaySeconds: float64(rapid.IntRange(0, 500).Draw(t, "maxDelay")),
		}
		attempt := rapid.IntRange(1, 12).Draw(t, "attempt")
		want := r.IntervalSeconds * math.Pow(r.BackoffRate, float64(attempt-1))
		if r.MaxDelaySeconds > 0 && want > r.MaxDelaySeconds {
			want = r.MaxDelaySeconds
		}
		want = math.Min(want, maxRetryDelaySeconds) // the engine's overflow guard
		got := r.RetryDelay(attempt, nil).Seconds()
		if math.Abs(got-want) > 1e-6*want+1e-9 {
			t.Fatalf("delay(%d) = %v, want %v", attempt, got, want)
		}
		if attempt > 1 && r.MaxDelaySeconds == 0 && r.RetryDelay(attempt, nil) < r.RetryDelay(attempt-1, nil) {
			t.Fatal("delay decreased")
		}
		r.JitterFull = true
		rnd := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))
		j := r.RetryDelay(attempt, rnd).Seconds()
		if j < 0 || j > want+1e-9 {
			t.Fatalf("jittered delay %v outside [0, %v]", j, want)
		}
	})
}

// An execution's virtual duration is exactly the sum of its retry delays,
// and the attempt count is MaxAttempts+1 when every attempt fails.
func TestRetryTimingOfExecutionsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		interval := rapid.IntRange(1, 30).Draw(t, "interval")
		rate := 1 + float64(rapid.IntRange(0, 20).Draw(t, "rate10"))/10
		maxAttempts := rapid.IntRange(0, 6).Draw(t, "maxAttempts")
		maxDelay := rapid.IntRange(0, 100).Draw(t, "maxDelay")
		failures := rapid.IntRange(0, 8).Draw(t, "failures")
		retrier := map[string]any{"ErrorEquals": []string{"States.ALL"}, "IntervalSeconds": interval, "BackoffRate": rate, "MaxAttempts": maxAttempts}
		if maxDelay > 0 {
			retrier["MaxDelaySeconds"] = maxDelay
		}
		def, _ := json.Marshal(map[string]any{"StartAt": "T", "States": map[string]any{"T": map[string]any{
			"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": map[string]any{"FunctionName": "f"},
			"Retry": []any{retrier}, "End": true}}})
		m, err := Compile(def)
		if err != nil {
			t.Fatal(err)
		}
		mocks := map[string]any{fmt.Sprint(failures): map[string]any{"Return": "ok"}}
		if failures > 0 {
			mocks[fmt.Sprintf("0-%d", failures-1)] = map[string]any{"Throw": map[string]any{"Error": "E", "Cause": "c"}}
		}
		doc, _ := json.Marshal(map[string]any{"StateMachines": map[string]any{"local": map[string]any{"TestCases": map[string]any{"c": map[string]any{"T": "R"}}}},
			"MockedResponses": map[string]any{"R": mocks}})
		cfg, err := mockconfig.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		e := New(Options{Mocks: cfg})
		x, err := e.Execute(context.Background(), StartInput{Machine: m, TestCase: "c"})
		if err != nil {
			t.Fatal(err)
		}
		retries := min(failures, maxAttempts)
		var want time.Duration
		r := Retrier{IntervalSeconds: float64(interval), BackoffRate: rate, MaxDelaySeconds: float64(maxDelay)}
		for n := 1; n <= retries; n++ {
			want += r.RetryDelay(n, nil)
		}
		if got := x.StopDate.Sub(x.StartDate); got != want {
			t.Fatalf("took %v, want %v", got, want)
		}
		if wantOK := failures <= maxAttempts; (x.Status == StatusSucceeded) != wantOK {
			t.Fatalf("status %s with %d failures and MaxAttempts %d", x.Status, failures, maxAttempts)
		}
		scheduled := 0
		evs, _ := e.Store().History(context.Background(), x.ExecutionArn)
		for _, ev := range evs {
			if ev.Type == "TaskScheduled" {
				scheduled++
			}
		}
		if scheduled != retries+1 {
			t.Fatalf("%d attempts, want %d", scheduled, retries+1)
		}
	})
}

// FULL jitter uses the engine's seeded random source: the same seed gives
// the same timing, and the delay is never above the un-jittered one.
func TestJitterIsSeededAndBounded(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},
		"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":3,"JitterStrategy":"FULL"}],"End":true}}}`
	cfg, _ := mockconfig.Parse([]byte(`{"StateMachines":{"local":{"TestCases":{"c":{"T":"R"}}}},"MockedResponses":{"R":{"0-2":{"Throw":{"Error":"E"}},"3":{"Return":1}}}}`))
	took := func(seed uint64) time.Duration {
		e := New(Options{Mocks: cfg, Seed: seed})
		x, err := e.Execute(context.Background(), StartInput{Machine: mustCompile(t, def), TestCase: "c"})
		if err != nil || x.Status != StatusSucceeded {
			t.Fatalf("%v %+v", err, x)
		}
		return x.StopDate.Sub(x.StartDate)
	}
	a, b, c := took(7), took(7), took(8)
	if a != b {
		t.Fatalf("same seed, different timing: %v %v", a, b)
	}
	if a == c {
		t.Logf("seeds 7 and 8 happen to agree: %v", a)
	}
	if a > 70*time.Second || a <= 0 {
		t.Fatalf("jittered total %v outside (0, 70s]", a)
	}
}
