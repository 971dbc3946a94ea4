package main_test

// These tests build the real bootstrap and run it under the Lambda runtime
// API contract (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
// a loopback server answers GET /2018-06-01/runtime/invocation/next with an
// event and records what the binary POSTs to .../{id}/response or
// .../{id}/error. The binary reaches S3 (gofakes3), SQS (goaws) and
// DynamoDB (dynalite) through the SDK's standard AWS_ENDPOINT_URL_<SERVICE>
// variables.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/s3store"
)

var (
	s3srv   *awstest.S3
	sqssrv  *awstest.SQS
	ddb     *awstest.DynamoDB
	ddbSkip string
	binary  string
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()
	var err error
	if s3srv, err = awstest.StartS3(); err != nil {
		return 0, err
	}
	defer s3srv.Close()
	if sqssrv, err = awstest.StartSQS(); err != nil {
		return 0, err
	}
	defer sqssrv.Close()
	ddb, err = awstest.StartDynamoDB(ctx)
	switch {
	case errors.Is(err, awstest.ErrNoNode):
		ddbSkip = err.Error()
	case err != nil:
		return 0, err
	default:
		defer ddb.Close()
	}
	dir, err := os.MkdirTemp("", "elt-bootstrap-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build bootstrap: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// invocation is one event served and what came back.
type invocation struct {
	id       string
	event    []byte
	response []byte
	errBody  []byte
	done     chan struct{}
}

// runtimeAPI is a loopback Lambda runtime API serving queued events.
type runtimeAPI struct {
	mu      sync.Mutex
	pending chan *invocation
	byID    map[string]*invocation
	seq     int
	srv     *httptest.Server
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	rt := &runtimeAPI{pending: make(chan *invocation, 16), byID: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case inv := <-rt.pending:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:elt-test")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			w.Header().Set("Content-Type", "application/json")
			w.Write(inv.event)
		case <-r.Context().Done():
		}
	})
	finish := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			rt.mu.Lock()
			inv := rt.byID[r.PathValue("id")]
			rt.mu.Unlock()
			if inv == nil {
				t.Errorf("%s for unknown request id %q", kind, r.PathValue("id"))
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if kind == "response" {
				inv.response = body
			} else {
				inv.errBody = body
			}
			w.WriteHeader(http.StatusAccepted)
			close(inv.done)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", finish("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", finish("error"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rt.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	rt.srv.Start()
	t.Cleanup(rt.srv.Close)
	return rt
}

// invoke serves one event and waits for the binary's answer.
func (rt *runtimeAPI) invoke(t *testing.T, event any) *invocation {
	t.Helper()
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	rt.mu.Lock()
	rt.seq++
	inv := &invocation{id: fmt.Sprintf("req-%04d", rt.seq), event: b, done: make(chan struct{})}
	rt.byID[inv.id] = inv
	rt.mu.Unlock()
	rt.pending <- inv
	select {
	case <-inv.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("no answer to %s", inv.id)
	}
	return inv
}

// startBinary runs the bootstrap with env on top of a minimal environment.
func startBinary(t *testing.T, rt *runtimeAPI, env map[string]string) *bytes.Buffer {
	t.Helper()
	u, _ := url.Parse(rt.srv.URL)
	base := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":    u.Host,
		"AWS_REGION":                awstest.Region,
		"AWS_ACCESS_KEY_ID":         awstest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     awstest.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_S3":       s3srv.URL,
		"AWS_ENDPOINT_URL_SQS":      sqssrv.URL,
		"ELT_LOG_FORMAT":            "json",
		"PATH":                      os.Getenv("PATH"),
		"TMPDIR":                    t.TempDir(),
	}
	if ddb != nil {
		base["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.URL
	}
	for k, v := range env {
		base[k] = v
	}
	cmd := exec.Command(binary)
	for k, v := range base {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("bootstrap logs:\n%s", logs)
		}
	})
	return logs
}

var fixtureSeq int

// fixture makes a bronze object, a queue and a ledger table.
func fixture(t *testing.T, lines int) (bucket, key, etag, queueURL, table string, size int64) {
	t.Helper()
	if ddb == nil {
		t.Skip(ddbSkip)
	}
	ctx := context.Background()
	fixtureSeq++
	n := fixtureSeq
	bucket = fmt.Sprintf("bronze-%d", n)
	if err := s3srv.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	if err := s3srv.CreateBucket(ctx, fmt.Sprintf("silver-%d", n)); err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for i := range lines {
		fmt.Fprintf(&body, `{"record_type":"shipments","event_id":"e-%d","event_time":"2026-01-02T03:04:05Z","shipment_id":"S%d","origin":"Lisbon","destination":"Oslo","carrier":"DHL","weight_kg":%d.5}`+"\n", i, i, i)
	}
	c, err := s3srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key = "bronze/2026/day one.jsonl"
	info, err := s3store.New(c, s3store.Options{}).Put(ctx, bucket, key, strings.NewReader(body.String()), &objstore.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awstest.Config(ctx, sqssrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("work-%d", n))})
	if err != nil {
		t.Fatal(err)
	}
	table = fmt.Sprintf("ledger-%d", n)
	if err := ddb.CreateLedgerTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	return bucket, key, info.ETag, aws.ToString(q.QueueUrl), table, info.Size
}

// s3Event is an ObjectCreated notification as S3 sends it (key URL-encoded,
// spaces as '+').
func s3Event(bucket, key, etag string, size int64) map[string]any {
	return map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
		"eventTime": "2026-01-02T03:04:05.000Z", "eventName": "ObjectCreated:Put",
		"s3": map[string]any{
			"s3SchemaVersion": "1.0", "configurationId": "bronze",
			"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{"key": url.QueryEscape(key), "size": size, "eTag": etag, "sequencer": "0A1B2C3D4E5F678901"},
		},
	}}}
}

func TestIngestUnderRuntimeAPI(t *testing.T) {
	bucket, key, etag, queueURL, table, size := fixture(t, 50)
	rt := newRuntimeAPI(t)
	startBinary(t, rt, map[string]string{
		"ELT_HANDLER": "ingest", "ELT_QUEUE_URL": queueURL, "ELT_LEDGER_TABLE": table,
		"ELT_CHUNK_BYTES": "1000", "ELT_BRONZE_BUCKET": bucket, "ELT_SILVER_BUCKET": "unused",
	})
	type out struct{ Objects, Claimed, Skipped, Superseded, Ignored, Messages int }
	var first, second out
	inv := rt.invoke(t, s3Event(bucket, key, etag, size))
	if inv.errBody != nil {
		t.Fatalf("ingest error: %s", inv.errBody)
	}
	if err := json.Unmarshal(inv.response, &first); err != nil {
		t.Fatalf("response %s: %v", inv.response, err)
	}
	wantMsgs := int((size + 999) / 1000)
	if first.Objects != 1 || first.Claimed != 1 || first.Messages < wantMsgs-1 || first.Messages > wantMsgs+1 {
		t.Fatalf("first delivery %+v (object of %d bytes, chunks of 1000)", first, size)
	}
	// S3 delivers at least once: the same event again is a no-op.
	inv = rt.invoke(t, s3Event(bucket, key, etag, size))
	if err := json.Unmarshal(inv.response, &second); err != nil || inv.errBody != nil {
		t.Fatalf("second response %s %s: %v", inv.response, inv.errBody, err)
	}
	if second.Skipped != 1 || second.Messages != 0 {
		t.Fatalf("duplicate delivery %+v, want skipped", second)
	}
	// The S3 console's test event has no Records and is ignored.
	inv = rt.invoke(t, map[string]any{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket})
	if inv.errBody != nil {
		t.Fatalf("test event: %s", inv.errBody)
	}
	// The pointers are on the queue.
	cfg, _ := awstest.Config(context.Background(), sqssrv.URL)
	attrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["ApproximateNumberOfMessages"]; got != fmt.Sprint(first.Messages) {
		t.Errorf("queue holds %s messages, ingest reported %d", got, first.Messages)
	}
}

func TestTransformUnderRuntimeAPI(t *testing.T) {
	bucket, key, etag, queueURL, table, size := fixture(t, 30)
	silver := strings.Replace(bucket, "bronze", "silver", 1)
	// Ingest first, with the real binary, to get real work items.
	rt := newRuntimeAPI(t)
	startBinary(t, rt, map[string]string{"ELT_HANDLER": "ingest", "ELT_QUEUE_URL": queueURL, "ELT_LEDGER_TABLE": table, "ELT_CHUNK_BYTES": "800"})
	if inv := rt.invoke(t, s3Event(bucket, key, etag, size)); inv.errBody != nil {
		t.Fatalf("ingest: %s", inv.errBody)
	}
	ctx := context.Background()
	cfg, _ := awstest.Config(ctx, sqssrv.URL)
	sq := sqs.NewFromConfig(cfg)
	var records []map[string]any
	for {
		got, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			break
		}
		for _, m := range got.Messages {
			records = append(records, sqsRecord(aws.ToString(m.MessageId), aws.ToString(m.Body)))
		}
	}
	if len(records) < 2 {
		t.Fatalf("ingest queued %d items", len(records))
	}

	tf := newRuntimeAPI(t)
	startBinary(t, tf, map[string]string{"ELT_HANDLER": "transform", "ELT_SILVER_BUCKET": silver, "ELT_EMIT_PARTITION_EVENTS": "false"})
	type resp struct {
		BatchItemFailures *[]struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	cases := []struct {
		name    string
		records []map[string]any
		failed  []string
	}{
		{"full success", records, []string{}},
		{"one poison message", append([]map[string]any{sqsRecord("poison-1", "not a work item")}, records[:1]...), []string{"poison-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := tf.invoke(t, map[string]any{"Records": tc.records})
			if inv.errBody != nil {
				t.Fatalf("transform error: %s", inv.errBody)
			}
			var r resp
			if err := json.Unmarshal(inv.response, &r); err != nil {
				t.Fatalf("response %s: %v", inv.response, err)
			}
			if r.BatchItemFailures == nil {
				t.Fatalf("response %s has no batchItemFailures list (must be [] on success)", inv.response)
			}
			var ids []string
			for _, f := range *r.BatchItemFailures {
				ids = append(ids, f.ItemIdentifier)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.failed) && !(len(ids) == 0 && len(tc.failed) == 0) {
				t.Fatalf("batchItemFailures %v, want %v (response %s)", ids, tc.failed, inv.response)
			}
		})
	}
	c, _ := s3srv.Client(ctx)
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(silver), Prefix: aws.String("silver/shipments/dt=2026-01-02/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) == 0 {
		t.Fatalf("no silver files under silver/shipments/dt=2026-01-02/")
	}
}

func sqsRecord(id, body string) map[string]any {
	return map[string]any{
		"messageId": id, "receiptHandle": "rh-" + id, "body": body,
		"attributes":  map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1767323045000"},
		"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:work", "awsRegion": "us-east-1",
		"md5OfBody": "", "messageAttributes": map[string]any{},
	}
}

// TestColdStartConfigErrors: a missing or bad variable stops the binary at
// cold start with a log line naming it.
func TestColdStartConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no handler", map[string]string{}, "ELT_HANDLER"},
		{"unknown handler", map[string]string{"ELT_HANDLER": "nope"}, `unknown handler \"nope\"`},
		{"ingest without queue", map[string]string{"ELT_HANDLER": "ingest", "ELT_LEDGER_TABLE": "t"}, "ELT_QUEUE_URL: required but not set"},
		{"ingest without table", map[string]string{"ELT_HANDLER": "ingest", "ELT_QUEUE_URL": "http://q"}, "ELT_LEDGER_TABLE: required but not set"},
		{"bad chunk bytes", map[string]string{"ELT_HANDLER": "ingest", "ELT_QUEUE_URL": "http://q", "ELT_LEDGER_TABLE": "t", "ELT_CHUNK_BYTES": "lots"}, "ELT_CHUNK_BYTES"},
		{"transform without silver", map[string]string{"_HANDLER": "transform"}, "ELT_SILVER_BUCKET: required but not set"},
		{"events without bus", map[string]string{"ELT_HANDLER": "transform", "ELT_SILVER_BUCKET": "s", "ELT_EMIT_PARTITION_EVENTS": "true"}, "ELT_EVENT_BUS: required when"},
		{"bad bool", map[string]string{"ELT_HANDLER": "transform", "ELT_SILVER_BUCKET": "s", "ELT_EMIT_PARTITION_EVENTS": "yes please"}, "ELT_EMIT_PARTITION_EVENTS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntimeAPI(t)
			u, _ := url.Parse(rt.srv.URL)
			cmd := exec.Command(binary)
			cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + u.Host, "AWS_REGION=us-east-1", "ELT_LOG_FORMAT=json"}
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1; output %s", err, out)
			}
			if !strings.Contains(string(out), "lambda.init_failed") || !strings.Contains(string(out), tc.want) {
				t.Fatalf("output %s, want lambda.init_failed naming %q", out, tc.want)
			}
		})
	}
}

// TestWorkflowTaskUnderRuntimeAPI: a workflow task (validate_input, as the
// ops workflow's first state invokes it) answers the runtime API with its
// Output, and a failed task posts to /error with the task's ASL error name as
// errorType, which is what Step Functions matches Retry and Catch on.
func TestWorkflowTaskUnderRuntimeAPI(t *testing.T) {
	rt := newRuntimeAPI(t)
	startBinary(t, rt, map[string]string{"ELT_HANDLER": "validate_input", "ELT_BRONZE_BUCKET": "b", "ELT_SILVER_BUCKET": "s"})
	valid := map[string]any{
		"bronze_bucket": "bronze", "src_prefix": "bronze/shipments/", "dest_prefix_base": "bronze/replay/manual",
		"window_hours": 6, "silver_bucket": "silver", "silver_prefix": "silver/", "poll_interval_seconds": 60, "max_attempts": 3,
	}
	inv := rt.invoke(t, map[string]any{"schema": "ops_input.schema.json", "input": valid})
	if inv.errBody != nil || string(inv.response) != `{"valid":true,"schema":"ops_input.schema.json"}` {
		t.Fatalf("valid input: response %s error %s", inv.response, inv.errBody)
	}
	cases := []struct {
		name, wantType, wantInMessage string
		payload                       any
	}{
		{"missing fields", "ValidateInput.InvalidInput", "max_attempts", map[string]any{"schema": "ops_input.schema.json", "input": map[string]any{"bronze_bucket": "bronze"}}},
		{"payload of the wrong shape", "InvalidInput", "decode input", []int{1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := rt.invoke(t, tc.payload)
			if inv.errBody == nil {
				t.Fatalf("no error, response %s", inv.response)
			}
			var e struct {
				Type    string `json:"errorType"`
				Message string `json:"errorMessage"`
			}
			if err := json.Unmarshal(inv.errBody, &e); err != nil {
				t.Fatalf("error body %s: %v", inv.errBody, err)
			}
			if e.Type != tc.wantType || !strings.Contains(e.Message, tc.wantInMessage) {
				t.Fatalf("error %+v, want type %s mentioning %q", e, tc.wantType, tc.wantInMessage)
			}
		})
	}
}

// TestQualityTriggerUnderRuntimeAPI: the built binary as the target of the
// PartitionReady rule starts the quality gate on a Step Functions endpoint
// (ours, on loopback, reached through AWS_ENDPOINT_URL_SFN) and answers a
// redelivered event with already_started.
func TestQualityTriggerUnderRuntimeAPI(t *testing.T) {
	ctx := context.Background()
	sf, err := awstest.StartStepFunctions(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.Close)
	gateArn, err := sf.CreateStateMachine(ctx, "elt-dev-quality-gate", `{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	rt := newRuntimeAPI(t)
	startBinary(t, rt, map[string]string{"ELT_HANDLER": "quality_trigger", "ELT_QUALITY_GATE_ARN": gateArn, "AWS_ENDPOINT_URL_SFN": sf.URL})
	event := map[string]any{
		"version": "0", "id": "1", "detail-type": "PartitionReady", "source": "elt.pipeline", "account": "000000000000",
		"time": "2026-01-02T03:04:05Z", "region": "us-east-1", "resources": []string{},
		"detail": map[string]any{"bucket": "silver", "record_type": "shipments", "dt": "2026-01-02",
			"prefix": "silver/shipments/dt=2026-01-02/", "files": []string{"silver/shipments/dt=2026-01-02/part-a.parquet"}, "rows": 3},
	}
	var outs [2]struct {
		Arn     string `json:"execution_arn"`
		Name    string `json:"name"`
		Already bool   `json:"already_started"`
	}
	for i := range outs {
		inv := rt.invoke(t, event)
		if inv.errBody != nil {
			t.Fatalf("delivery %d: %s", i, inv.errBody)
		}
		if err := json.Unmarshal(inv.response, &outs[i]); err != nil {
			t.Fatalf("delivery %d: %s: %v", i, inv.response, err)
		}
	}
	if outs[0].Arn == "" || outs[0].Already || !strings.HasPrefix(outs[0].Name, "qg-shipments-2026-01-02-") {
		t.Fatalf("first delivery %+v", outs[0])
	}
	if !outs[1].Already || outs[1].Name != outs[0].Name {
		t.Fatalf("redelivery %+v, want already_started under %s", outs[1], outs[0].Name)
	}
}
