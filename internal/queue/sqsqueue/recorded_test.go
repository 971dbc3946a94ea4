package sqsqueue_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/sqsqueue"
)

// These tests replay replies shaped as the SQS API reference documents them
// (AWS JSON 1.0 protocol) for the behaviours no local server reproduces:
// GetQueueAttributes counting only available messages in
// ApproximateNumberOfMessages, and ListMessageMoveTasks omitting TaskHandle
// once a task has left RUNNING. They check our requests and our reading of
// the replies, not SQS itself.

// recorded is a loopback stand-in for SQS: reply(action, request body)
// answers each call; every call is logged.
type recorded struct {
	mu    sync.Mutex
	calls []recordedCall
	reply func(action string, in map[string]any) (int, any)
}

type recordedCall struct {
	Action string
	In     map[string]any
}

func (r *recorded) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	action, _ := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var in map[string]any
	json.NewDecoder(req.Body).Decode(&in)
	r.mu.Lock()
	r.calls = append(r.calls, recordedCall{action, in})
	status, out := r.reply(action, in)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if status >= 400 {
		e := out.(map[string]any)
		w.Header().Set("x-amzn-query-error", e["code"].(string)+";Sender")
		out = map[string]any{"__type": "com.amazonaws.sqs#" + e["code"].(string), "message": e["message"]}
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

func (r *recorded) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		out = append(out, c.Action)
	}
	return out
}

// startRecorded serves r on 127.0.0.1 and returns a queue (with a DLQ) on it
// whose move-task polls are counted instead of slept.
func startRecorded(t *testing.T, r *recorded, polls *int) queue.DeadLettered {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: r}}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg, err := awstest.Config(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsqueue.New(sqsqueue.NewClient(cfg), sqsqueue.Options{
		QueueURL: srv.URL + "/000000000000/work", DeadLetterURL: srv.URL + "/000000000000/work-dlq",
		Sleep: func(ctx context.Context, _ time.Duration) error {
			*polls++
			if *polls > 20 { // a redrive that never recognises its task ends here
				return context.DeadlineExceeded
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return q.(queue.DeadLettered)
}

// queueArn answers GetQueueAttributes QueueArn from the queue URL's name.
func queueArn(in map[string]any) map[string]any {
	name := path.Base(in["QueueUrl"].(string))
	return map[string]any{"Attributes": map[string]string{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:" + name}}
}

// TestDepthRecordedReply: ApproximateNumberOfMessages is "the approximate
// number of messages available for retrieval", NotVisible the in-flight
// ones, Delayed the delayed ones (GetQueueAttributes, SQS API reference);
// attribute values are strings in the JSON reply.
func TestDepthRecordedReply(t *testing.T) {
	r := &recorded{reply: func(action string, in map[string]any) (int, any) {
		return 200, map[string]any{"Attributes": map[string]string{
			"ApproximateNumberOfMessages":           "3",
			"ApproximateNumberOfMessagesNotVisible": "2",
			"ApproximateNumberOfMessagesDelayed":    "1",
		}}
	}}
	var polls int
	q := startRecorded(t, r, &polls)
	d, err := q.(queue.Queue).Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d != (queue.Depth{Visible: 3, InFlight: 2, Delayed: 1}) {
		t.Fatalf("depth %+v, want 3 visible, 2 in flight, 1 delayed", d)
	}
	if len(r.calls) != 1 || r.calls[0].Action != "GetQueueAttributes" {
		t.Fatalf("calls %v", r.actions())
	}
	names, _ := json.Marshal(r.calls[0].In["AttributeNames"])
	want := `["ApproximateNumberOfMessages","ApproximateNumberOfMessagesNotVisible","ApproximateNumberOfMessagesDelayed"]`
	if string(names) != want {
		t.Fatalf("AttributeNames %s, want %s", names, want)
	}
}

// TestRedriveMoveTaskRecordedReplies: Redrive(all) starts a message move
// task from the DLQ to the queue (StartMessageMoveTask with both ARNs) and
// polls ListMessageMoveTasks, whose entries are newest first and carry a
// TaskHandle only while RUNNING (ListMessageMoveTasksResultEntry, SQS API
// reference). Our task must be recognised after it loses its handle, and
// an older task on the same DLQ must not be mistaken for it.
func TestRedriveMoveTaskRecordedReplies(t *testing.T) {
	const (
		handle = "eyJ0YXNrSWQiOiJvdXJzIn0="
		dlqArn = "arn:aws:sqs:us-east-1:000000000000:work-dlq"
		qArn   = "arn:aws:sqs:us-east-1:000000000000:work"
	)
	entry := func(status string, started, moved int64, withHandle bool) map[string]any {
		e := map[string]any{"Status": status, "StartedTimestamp": started, "SourceArn": dlqArn, "DestinationArn": qArn,
			"ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": 7}
		if withHandle {
			e["TaskHandle"] = handle
		}
		if status == "FAILED" {
			e["FailureReason"] = "AWS.SimpleQueueService.NonExistentQueue"
		}
		return e
	}
	older := entry("COMPLETED", 1000, 99, false)
	cases := []struct {
		name      string
		lists     [][]map[string]any // successive ListMessageMoveTasks replies
		moved     int
		wantErr   bool // a fault.Unknown error (the task failed)
		wantPolls int
	}{
		{"running then completed without handle", [][]map[string]any{
			{entry("RUNNING", 2000, 3, true), older},
			{entry("RUNNING", 2000, 5, true), older},
			{entry("COMPLETED", 2000, 7, false), older},
		}, 7, false, 2},
		{"completed before the first listing", [][]map[string]any{
			{entry("COMPLETED", 2000, 7, false), older},
		}, 7, false, 0},
		{"not listed yet, then running, then done", [][]map[string]any{
			{older},
			{entry("RUNNING", 2000, 1, true), older},
			{entry("COMPLETED", 2000, 7, false), older},
		}, 7, false, 2},
		{"failed", [][]map[string]any{
			{entry("RUNNING", 2000, 2, true), older},
			{entry("FAILED", 2000, 2, false), older},
		}, 2, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lists := 0
			var start map[string]any
			r := &recorded{reply: func(action string, in map[string]any) (int, any) {
				switch action {
				case "GetQueueAttributes":
					return 200, queueArn(in)
				case "StartMessageMoveTask":
					start = in
					return 200, map[string]any{"TaskHandle": handle}
				case "ListMessageMoveTasks":
					if in["SourceArn"] != dlqArn {
						t.Errorf("ListMessageMoveTasks SourceArn %v", in["SourceArn"])
					}
					if start == nil { // the listing before the start
						return 200, map[string]any{"Results": []map[string]any{older}}
					}
					out := tc.lists[min(lists, len(tc.lists)-1)]
					lists++
					return 200, map[string]any{"Results": out}
				}
				return 400, map[string]any{"code": "UnsupportedOperation", "message": action}
			}}
			var polls int
			q := startRecorded(t, r, &polls)
			n, err := q.Redrive(context.Background(), 0)
			if (err != nil) != tc.wantErr || err != nil && fault.CodeOf(err) != fault.Unknown {
				t.Fatalf("Redrive: %d, %v; want error %v", n, err, tc.wantErr)
			}
			if n != tc.moved {
				t.Errorf("moved %d, want %d", n, tc.moved)
			}
			if start["SourceArn"] != dlqArn || start["DestinationArn"] != qArn {
				t.Errorf("StartMessageMoveTask %v, want source %s destination %s", start, dlqArn, qArn)
			}
			if polls != tc.wantPolls || lists != tc.wantPolls+1 || r.actions()[2] != "ListMessageMoveTasks" || r.actions()[3] != "StartMessageMoveTask" {
				t.Errorf("%d polls, %d listings; want %d and %d (calls %v)", polls, lists, tc.wantPolls, tc.wantPolls+1, r.actions())
			}
		})
	}
}
