package lambdaentry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/sfnclient"
	"github.com/serverless-elt/elt/internal/work"
)

// TestQualityEntry runs the transform entry on a bronze object in gofakes3,
// then the quality entry over the silver partition it wrote: a verdict with
// the partition's rows and a result under ge/results/.
func TestQualityEntry(t *testing.T) {
	ctx := context.Background()
	w := newS3World(t, "bronze", "silver")
	var body strings.Builder
	for i := range 40 {
		fmt.Fprintf(&body, `{"record_type":"shipments","event_id":"e-%d","event_time":"2026-01-02T03:04:05Z","shipment_id":"S%d","origin":"Lisbon","destination":"Oslo","carrier":"DHL","weight_kg":%d.5}`+"\n", i, i, i+1)
	}
	info, err := w.store.Put(ctx, "bronze", "bronze/shipments/day.jsonl", strings.NewReader(body.String()), &objstore.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	item, err := work.Item{Bucket: "bronze", Key: "bronze/shipments/day.jsonl", ETag: info.ETag, Size: info.Size,
		Range: objstore.Range{Offset: 0, Length: -1}, Chunk: 0, Chunks: 1, Format: work.JSONL, IngestedAt: time.Now().UTC()}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tf, err := Transform(ctx, w.runtime(map[string]string{EnvSilverBucket: "silver"}))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{"messageId": "m1", "receiptHandle": "r1", "body": item, "eventSource": "aws:sqs"}}})
	if out, err := invoke(t, tf, string(ev)); err != nil || out != `{"batchItemFailures":[]}` {
		t.Fatalf("transform: %s %v", out, err)
	}

	q, err := Quality(ctx, w.runtime(map[string]string{EnvTempDir: t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := invoke(t, q, `{"silver_bucket":"silver","silver_prefix":"silver/","record_type":"shipments","dt":"2026-01-02","result_prefix":"ge/results","run_name":"r1"}`)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Success   *bool  `json:"success"`
		Rows      int    `json:"rows"`
		ResultKey string `json:"result_key"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.Success == nil || o.Rows != 40 || !strings.HasPrefix(o.ResultKey, "ge/results/shipments/dt=2026-01-02/") {
		t.Fatalf("quality output %s (%v)", out, err)
	}
	if got := w.keys(t, "silver", "ge/results/"); len(got) != 1 || got[0] != o.ResultKey {
		t.Errorf("results %v, want [%s]", got, o.ResultKey)
	}
	if _, err := invoke(t, q, `{"silver_bucket":"silver","record_type":"shipments","dt":"2026-01-03"}`); errorName(err) != "Quality.PartitionNotFound" {
		t.Errorf("empty partition: %v (%q)", err, errorName(err))
	}
	if _, err := invoke(t, q, `{"silver_bucket":"silver","record_type":"shipments","dt":"yesterday"}`); errorName(err) != "Quality.InvalidInput" {
		t.Errorf("bad dt: %v (%q)", err, errorName(err))
	}
}

// sfnWorld is our local Step Functions endpoint (sfnlocal over the engine)
// on loopback with one state machine.
func sfnWorld(t *testing.T, name, definition string) (aws.Config, string, *sfnclient.Client) {
	t.Helper()
	ctx := context.Background()
	sf, err := awstest.StartStepFunctions(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.Close)
	arn, err := sf.CreateStateMachine(ctx, name, definition)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sf.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, arn, sfnclient.New(sfnclient.NewClient(cfg), sfnclient.Options{Poll: time.Millisecond, MaxPoll: 10 * time.Millisecond})
}

func partitionReadyEvent(detailType string, files ...string) string {
	detail, _ := json.Marshal(map[string]any{"bucket": "silver", "record_type": "shipments", "dt": "2026-01-02",
		"prefix": "silver/shipments/dt=2026-01-02/", "files": files, "rows": 40})
	ev, _ := json.Marshal(map[string]any{"version": "0", "id": "6a7e8feb", "detail-type": detailType, "source": "elt.pipeline",
		"account": "000000000000", "time": "2026-01-02T03:04:05Z", "region": "us-east-1", "resources": []string{}, "detail": json.RawMessage(detail)})
	return string(ev)
}

// TestQualityTriggerEntry: a PartitionReady event starts the quality gate
// under the rules package's deterministic name with the rules input; the
// same event again is ExecutionAlreadyExists, which is success; new files
// start a new run.
func TestQualityTriggerEntry(t *testing.T) {
	ctx := context.Background()
	cfg, arn, c := sfnWorld(t, "elt-dev-quality-gate", `{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}}`)
	h, err := QualityTrigger(ctx, &Runtime{Env: env(map[string]string{EnvQualityGateArn: arn}), AWS: cfg, Log: discard(), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	var first, again, other TriggerOutput
	for _, step := range []struct {
		event string
		out   *TriggerOutput
	}{
		{partitionReadyEvent("PartitionReady", "silver/shipments/dt=2026-01-02/part-a.parquet"), &first},
		{partitionReadyEvent("PartitionReady", "silver/shipments/dt=2026-01-02/part-a.parquet"), &again},
		{partitionReadyEvent("PartitionReady", "silver/shipments/dt=2026-01-02/part-a.parquet", "silver/shipments/dt=2026-01-02/part-b.parquet"), &other},
	} {
		out, err := invoke(t, h, step.event)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(out), step.out); err != nil {
			t.Fatal(err)
		}
	}
	if first.AlreadyStarted || first.ExecutionArn == "" || !strings.HasPrefix(first.Name, "qg-shipments-2026-01-02-") {
		t.Fatalf("first event: %+v", first)
	}
	if !again.AlreadyStarted || again.Name != first.Name {
		t.Fatalf("repeated event: %+v, want already started under %s", again, first.Name)
	}
	if other.AlreadyStarted || other.Name == first.Name {
		t.Fatalf("event with new files: %+v", other)
	}
	x, err := c.Wait(ctx, first.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	var input map[string]any
	if err := json.Unmarshal(x.Input, &input); err != nil {
		t.Fatal(err)
	}
	if input["record_type"] != "shipments" || input["dt"] != "2026-01-02" || input["silver_bucket"] != "silver" || input["silver_prefix"] != "silver/" {
		t.Errorf("execution input %s", x.Input)
	}
	if _, err := invoke(t, h, partitionReadyEvent("ObjectCreated")); errorName(err) != "InvalidInput" {
		t.Errorf("other detail-type: %v", err)
	}
	if _, err := invoke(t, h, `{"source":"elt.pipeline","detail-type":"PartitionReady","detail":{"bucket":"silver"}}`); errorName(err) != "InvalidInput" {
		t.Errorf("detail without partition: %v", err)
	}
}

func TestQualityConfigErrors(t *testing.T) {
	cases := []struct {
		name    string
		factory Factory
		env     map[string]string
		want    string
	}{
		{"trigger without state machine", QualityTrigger, map[string]string{}, EnvQualityGateArn + ": required but not set"},
		{"trigger with a function ARN", QualityTrigger, map[string]string{EnvQualityGateArn: "arn:aws:lambda:us-east-1:000000000000:function:x"}, "is not a state machine ARN"},
		{"trigger with an absolute silver prefix", QualityTrigger, map[string]string{EnvQualityGateArn: "arn:aws:states:us-east-1:000000000000:stateMachine:q", EnvSilverPrefix: "/silver"}, EnvSilverPrefix + ":"},
		{"quality with a missing temp dir", Quality, map[string]string{EnvTempDir: "/nonexistent/elt"}, EnvTempDir + ":"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.factory(context.Background(), &Runtime{Env: env(tc.env), Log: discard(), Now: time.Now})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
