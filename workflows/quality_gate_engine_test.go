package workflows

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/notify/localnotify"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

// Runs the generated quality-gate definition on the local engine with the
// REAL quality task, the engine's S3 and SNS integrations bound to a real
// fsstore and a real localnotify outbox, over partitions the real
// transform landed from generated records (tasks/quality/qualitytest).

type gateRun struct {
	x        engine.Execution
	store    *fsstore.Store
	outbox   *localnotify.Outbox
	calls    int64
	notified []localnotify.Notification
}

// flakyStore fails the first n listings with a transient fault.
type flakyStore struct {
	objstore.Store
	n atomic.Int64
}

func (f *flakyStore) List(ctx context.Context, b string, o objstore.ListOptions) (objstore.ListPage, error) {
	if f.n.Add(-1) >= 0 {
		return objstore.ListPage{}, fault.New(fault.Transient, "objstore.List", errors.New("503 Slow Down"))
	}
	return f.Store.List(ctx, b, o)
}

func runGate(t *testing.T, st *fsstore.Store, wrap func(objstore.Store) objstore.Store, name, input string) gateRun {
	t.Helper()
	outbox, err := localnotify.New(filepath.Join(t.TempDir(), "outbox.jsonl"), localnotify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var taskStore objstore.Store = st
	if wrap != nil {
		taskStore = wrap(st)
	}
	task, err := quality.New(quality.Deps{Store: taskStore, Log: slog.New(slog.DiscardHandler)}, quality.Config{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Embedded binding: the function placeholder is the task name.
	m := compileBound(t, QualityGate(), map[string]string{
		"quality_function_arn":   "quality",
		"notification_topic_arn": "arn:aws:sns:us-east-1:000000000000:elt",
	})
	r := gateRun{store: st, outbox: outbox}
	eng := engine.New(engine.Options{Services: engine.Services{Objects: st, Notifier: outbox}, Seed: 1})
	handle := engine.Typed(task.Handle)
	eng.Tasks().Register("quality", func(ctx context.Context, in any) (any, error) {
		atomic.AddInt64(&r.calls, 1)
		return handle(ctx, in)
	})
	r.x, err = eng.Execute(context.Background(), engine.StartInput{Machine: m, StateMachineName: QualityGateName, Name: name, Input: input})
	if err != nil {
		t.Fatal(err)
	}
	if r.notified, err = outbox.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func gateInput(dt string) string {
	return `{"record_type":"shipments","dt":"` + dt + `","silver_bucket":"silver","silver_prefix":"silver/"}`
}

func getJSON(t *testing.T, st objstore.Store, key string, v any) bool {
	t.Helper()
	rc, _, err := st.Get(context.Background(), "silver", key, nil)
	if fault.Is(err, fault.NotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v\n%s", key, err, b)
	}
	return true
}

// landGenerated lands n generated shipments of day (with a share of
// planted violations) through the real transform, in two bronze objects.
func landGenerated(t *testing.T, st objstore.Store, seed uint64, day time.Time, n int, violations float64) ([]byte, map[fake.Violation]int) {
	t.Helper()
	g, err := fake.New(seed, fake.Options{Types: []string{"shipments"}, Start: day, Days: 1, ViolationRate: violations})
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for part := 0; part < 2; part++ {
		var b bytes.Buffer
		for i := 0; i < n/2; i++ {
			line, _, _ := g.Next()
			b.Write(line)
			b.WriteByte('\n')
		}
		all.Write(b.Bytes())
		if rows := qualitytest.Land(t, st, "bronze/"+day.Format("2006-01-02")+"-"+string(rune('a'+part))+".jsonl", b.Bytes()); rows != int64(n/2) {
			t.Fatalf("landed %d rows of %d", rows, n/2)
		}
	}
	return all.Bytes(), g.ViolationCounts()
}

func TestQualityGateOnEngine(t *testing.T) {
	st, err := fsstore.New(filepath.Join(t.TempDir(), "store"), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clean := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	dirty := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	landGenerated(t, st, 11, clean, 400, 0)
	dirtyLines, planted := landGenerated(t, st, 12, dirty, 400, 0.03)
	if planted[fake.CarrierOutsideSet] == 0 || planted[fake.WeightBeyondBound] == 0 || planted[fake.DuplicateShipmentID] == 0 {
		t.Fatalf("seed planted %v; pick a seed that plants every kind", planted)
	}

	t.Run("clean partition passes", func(t *testing.T) {
		r := runGate(t, st, nil, "gate-clean", gateInput("2024-05-01"))
		if r.x.Status != "SUCCEEDED" || r.calls != 1 || len(r.notified) != 0 {
			t.Fatalf("status %s error %s cause %s calls %d notified %d", r.x.Status, r.x.Error, r.x.Cause, r.calls, len(r.notified))
		}
		var res quality.ValidationResult
		if !getJSON(t, st, "ge/results/shipments/dt=2024-05-01/gate-clean.json", &res) || !res.Success || res.Meta.BatchSpec.Rows != 400 {
			t.Fatalf("result success %v rows %d", res.Success, res.Meta.BatchSpec.Rows)
		}
		var marker map[string]any
		if getJSON(t, st, "ge/quarantine/shipments/dt=2024-05-01/marker.json", &marker) {
			t.Fatal("a clean partition got a quarantine marker")
		}
	})

	t.Run("planted violations fail the gate", func(t *testing.T) {
		r := runGate(t, st, nil, "gate-dirty", gateInput("2024-05-02"))
		if r.x.Status != "FAILED" || r.x.Error != ErrExpectationsFailed || r.calls != 1 {
			t.Fatalf("status %s error %s cause %s calls %d", r.x.Status, r.x.Error, r.x.Cause, r.calls)
		}
		resultKey := "ge/results/shipments/dt=2024-05-02/gate-dirty.json"
		if !strings.Contains(r.x.Cause, "shipments dt=2024-05-02 failed") || !strings.Contains(r.x.Cause, resultKey) {
			t.Fatalf("cause %q", r.x.Cause)
		}
		var res quality.ValidationResult
		if !getJSON(t, st, resultKey, &res) || res.Success {
			t.Fatalf("result %+v", res)
		}
		// The counts are what was planted, checked against the generated
		// lines themselves for the duplicates (every occurrence of a repeated
		// shipment_id is unexpected, as in GE).
		wantDup := duplicateOccurrences(t, dirtyLines)
		want := map[string]float64{
			"expect_column_values_to_be_in_set(carrier)":       float64(planted[fake.CarrierOutsideSet]),
			"expect_column_values_to_be_between(weight_kg)":    float64(planted[fake.WeightBeyondBound]),
			"expect_column_values_to_be_unique(shipment_id)":   float64(wantDup),
			"expect_column_values_to_be_unique(event_id)":      0,
			"expect_column_values_to_not_be_null(shipment_id)": 0,
		}
		failed := map[string]bool{}
		for _, x := range res.Results {
			label := x.ExpectationConfig.Label()
			if !x.Success {
				failed[label] = true
			}
			n, ok := want[label]
			if !ok {
				continue
			}
			if x.Result["unexpected_count"] != n || x.Result["element_count"] != 400.0 || x.Success != (n == 0) {
				t.Errorf("%s: success %v result %v; want %v unexpected", label, x.Success, x.Result, n)
			}
			if n > 0 && (x.Result["unexpected_percent"] != n/400*100 || len(x.Result["partial_unexpected_list"].([]any)) != int(min(n, 20))) {
				t.Errorf("%s: result %v", label, x.Result)
			}
		}
		for _, label := range []string{"expect_column_values_to_be_in_set(carrier)", "expect_column_values_to_be_between(weight_kg)", "expect_column_values_to_be_unique(shipment_id)"} {
			if !failed[label] {
				t.Errorf("%s did not fail", label)
			}
		}
		if res.Statistics.UnsuccessfulExpectations != len(failed) || res.Statistics.EvaluatedExpectations != 17 {
			t.Errorf("statistics %+v, failed %v", res.Statistics, failed)
		}
		var marker map[string]any
		if !getJSON(t, st, "ge/quarantine/shipments/dt=2024-05-02/marker.json", &marker) {
			t.Fatal("no quarantine marker")
		}
		if marker["result_key"] != resultKey || !strings.HasSuffix(marker["execution_id"].(string), ":gate-dirty") ||
			marker["partition"] != "s3://silver/silver/shipments/dt=2024-05-02/" || len(marker["failed_expectations"].([]any)) != len(failed) {
			t.Fatalf("marker %v", marker)
		}
		if len(r.notified) != 1 {
			t.Fatalf("%d notifications", len(r.notified))
		}
		msg := r.notified[0].Message
		if r.notified[0].Subject != "elt quality gate failed" || !strings.Contains(msg, "shipments dt=2024-05-02") ||
			!strings.Contains(msg, "expect_column_values_to_be_in_set(carrier)") || !strings.Contains(msg, "s3://silver/"+resultKey) {
			t.Fatalf("notification %+v", r.notified[0])
		}
		var report bytes.Buffer
		rc, _, err := st.Get(context.Background(), "silver", "ge/reports/shipments/dt=2024-05-02/gate-dirty.html", nil)
		if err != nil {
			t.Fatal(err)
		}
		report.ReadFrom(rc)
		rc.Close()
		if !strings.Contains(report.String(), "Pigeon Express") {
			t.Fatal("report lacks the unexpected carrier")
		}
	})

	t.Run("store outage is retried", func(t *testing.T) {
		r := runGate(t, st, func(s objstore.Store) objstore.Store { f := &flakyStore{Store: s}; f.n.Store(2); return f }, "gate-retry", gateInput("2024-05-01"))
		if r.x.Status != "SUCCEEDED" || r.calls != 3 || len(r.notified) != 0 {
			t.Fatalf("status %s error %s calls %d notified %d", r.x.Status, r.x.Error, r.calls, len(r.notified))
		}
	})

	t.Run("missing partition is an error, not retried", func(t *testing.T) {
		r := runGate(t, st, nil, "gate-missing", gateInput("2024-05-09"))
		if r.x.Status != "FAILED" || r.x.Error != quality.ErrPartitionNotFound || r.calls != 1 || len(r.notified) != 1 {
			t.Fatalf("status %s error %s calls %d notified %d", r.x.Status, r.x.Error, r.calls, len(r.notified))
		}
		if r.notified[0].Subject != "elt quality gate error" || !strings.Contains(r.notified[0].Message, "2024-05-09") {
			t.Fatalf("notification %+v", r.notified[0])
		}
	})

	t.Run("invalid input is an error", func(t *testing.T) {
		r := runGate(t, st, nil, "gate-invalid", `{"record_type":"shipments","dt":"2024-13-01","silver_bucket":"silver"}`)
		if r.x.Status != "FAILED" || r.x.Error != quality.ErrInvalidInput || r.calls != 1 || len(r.notified) != 1 {
			t.Fatalf("status %s error %s calls %d notified %d", r.x.Status, r.x.Error, r.calls, len(r.notified))
		}
	})

	t.Run("a later passing run lifts the quarantine", func(t *testing.T) {
		// The operator relaxes the suite for the partition (an override in
		// the bucket); the next run passes and removes the marker.
		ctx := context.Background()
		suite := `{"expectation_suite_name":"shipments_relaxed","expectations":[{"expectation_type":"expect_table_row_count_to_be_between","kwargs":{"min_value":1}}]}`
		if _, err := st.Put(ctx, "silver", "ge/suites/shipments.json", strings.NewReader(suite), nil); err != nil {
			t.Fatal(err)
		}
		defer st.Delete(ctx, "silver", "ge/suites/shipments.json")
		r := runGate(t, st, nil, "gate-rerun", gateInput("2024-05-02"))
		if r.x.Status != "SUCCEEDED" || len(r.notified) != 0 {
			t.Fatalf("status %s error %s cause %s", r.x.Status, r.x.Error, r.x.Cause)
		}
		var out struct {
			Quality struct {
				Payload quality.Output `json:"Payload"`
			} `json:"quality"`
		}
		if err := json.Unmarshal([]byte(*r.x.Output), &out); err != nil {
			t.Fatal(err)
		}
		if !out.Quality.Payload.QuarantineLifted || out.Quality.Payload.SuiteName != "shipments_relaxed" {
			t.Fatalf("output %s", *r.x.Output)
		}
		var marker map[string]any
		if getJSON(t, st, "ge/quarantine/shipments/dt=2024-05-02/marker.json", &marker) {
			t.Fatal("the marker is still there")
		}
	})
}

// duplicateOccurrences counts the lines whose shipment_id appears more
// than once (GE's unexpected count for expect_column_values_to_be_unique).
func duplicateOccurrences(t *testing.T, jsonl []byte) int {
	t.Helper()
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	for sc.Scan() {
		var rec struct {
			ShipmentID string `json:"shipment_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		counts[rec.ShipmentID]++
	}
	n := 0
	for _, c := range counts {
		if c > 1 {
			n += c
		}
	}
	return n
}
