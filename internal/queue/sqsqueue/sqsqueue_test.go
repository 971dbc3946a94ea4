package sqsqueue_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/queuetest"
	"github.com/serverless-elt/elt/internal/queue/sqsqueue"
)

var (
	server *awstest.SQS
	client *sqs.Client

	// local is local-aws-sqs (npm); nil with localErr when it cannot run.
	local       *awstest.LocalSQS
	localClient *sqs.Client
	localErr    error
)

func TestMain(m *testing.M) {
	s, err := awstest.StartSQS()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg, err := awstest.Config(context.Background(), s.URL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server, client = s, sqsqueue.NewClient(cfg)
	local, localClient, localErr = startLocalSQS()
	code := m.Run()
	s.Close()
	if local != nil {
		local.Close()
	}
	os.Exit(code)
}

var seq atomic.Int64

// newQueues creates a queue and its DLQ (maxReceiveCount 3). The queue's
// own visibility timeout is 1s, the suite's step, because goaws ignores
// ReceiveMessage's VisibilityTimeout parameter.
func newQueues(t *testing.T) (url, dlq string) {
	t.Helper()
	return newQueuesOn(t, client)
}

// newQueuesOn is newQueues on the server behind c.
func newQueuesOn(t *testing.T, client *sqs.Client) (url, dlq string) {
	t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	d, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("dlq-%d", n))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: d.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	arn := attrs.Attributes["QueueArn"]
	if arn == "" {
		arn = fmt.Sprintf("arn:aws:sqs:us-east-1:000000000000:dlq-%d", n)
	}
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(fmt.Sprintf("q-%d", n)),
		Attributes: map[string]string{
			"VisibilityTimeout": "1",
			"RedrivePolicy":     fmt.Sprintf(`{"maxReceiveCount":"3","deadLetterTargetArn":%q}`, arn),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(d.QueueUrl)
}

// newPlainQueue creates a queue without a redrive policy.
func newPlainQueue(t *testing.T) string {
	t.Helper()
	return newPlainQueueOn(t, client)
}

// newPlainQueueOn is newPlainQueue on the server behind c.
func newPlainQueueOn(t *testing.T, client *sqs.Client) string {
	t.Helper()
	q, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName:  aws.String(fmt.Sprintf("plain-%d", seq.Add(1))),
		Attributes: map[string]string{"VisibilityTimeout": "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl)
}

// goawsDeviations are the contract subtests that depend on SQS behaviour
// goaws v0.4.5 does not have (see internal/awstest/sqs.go).
var goawsDeviations = map[string]string{
	"VisibilityTimeout":          "ApproximateReceiveCount is always 1",
	"ChangeVisibility":           "ApproximateReceiveCount is always 1",
	"DeadLetterAfterMaxReceives": "ApproximateReceiveCount is always 1",
	"RedrivePartial":             "ApproximateReceiveCount is always 1",
	"Depth":                      "ApproximateNumberOfMessages counts in-flight messages too",
}

// TestContract runs the queue contract suite over HTTP against goaws.
func TestContract(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Harness {
		name := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		if why, ok := goawsDeviations[name]; ok {
			t.Skip("goaws deviation: " + why)
		}
		url, dlq := newQueues(t)
		if name == "AtLeastOnceConcurrentConsumers" {
			// The suite abandons a fifth of first deliveries, judged by
			// ReceiveCount == 1, which goaws reports on every delivery; so
			// a message can be abandoned past maxReceiveCount and goaws
			// dead-letters it. Run this subtest on a queue without a DLQ
			// (a harness option the suite allows).
			url = newPlainQueue(t)
			q, err := sqsqueue.New(client, sqsqueue.Options{QueueURL: url})
			if err != nil {
				t.Fatal(err)
			}
			return queuetest.Harness{Queue: q, LenientStaleReceipts: true}
		}
		q, err := sqsqueue.New(client, sqsqueue.Options{QueueURL: url, DeadLetterURL: dlq})
		if err != nil {
			t.Fatal(err)
		}
		return queuetest.Harness{Queue: q, MaxReceiveCount: 3, LenientStaleReceipts: true}
	})
}

// TestRedriveWithoutMoveTask: goaws lacks StartMessageMoveTask, so a full
// redrive falls back to moving by hand; a bounded one always does.
func TestRedriveWithoutMoveTask(t *testing.T) {
	ctx := context.Background()
	url, dlqURL := newQueues(t)
	q, err := sqsqueue.New(client, sqsqueue.Options{QueueURL: url, DeadLetterURL: dlqURL})
	if err != nil {
		t.Fatal(err)
	}
	dl := q.(queue.DeadLettered)
	var entries []queue.SendEntry
	for i := range 5 {
		entries = append(entries, queue.SendEntry{ID: fmt.Sprint(i), Body: fmt.Sprintf("dead-%d", i)})
	}
	if failed, err := dl.DeadLetters().SendBatch(ctx, entries); err != nil || len(failed) > 0 {
		t.Fatalf("seed DLQ: %v %v", failed, err)
	}
	if n, err := dl.Redrive(ctx, 2); err != nil || n != 2 {
		t.Fatalf("Redrive(2) = %d, %v", n, err)
	}
	if n, err := dl.Redrive(ctx, 0); err != nil || n != 3 {
		t.Fatalf("Redrive(all) = %d, %v", n, err)
	}
	got := map[string]bool{}
	for len(got) < 5 {
		msgs, err := q.Receive(ctx, 10, 30*time.Second, time.Second)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("receive after redrive: %d messages, %v (have %v)", len(msgs), err, got)
		}
		for _, m := range msgs {
			got[m.Body] = true
		}
	}
	if msgs, err := dl.DeadLetters().Receive(ctx, 10, time.Second, 0); err != nil || len(msgs) != 0 {
		t.Fatalf("DLQ after redrive: %d messages, %v", len(msgs), err)
	}
}

// TestInvalidBodyIsSenderFault: bodies outside SQS's character set are
// refused per entry without a round trip, the rest are sent.
func TestInvalidBodyIsSenderFault(t *testing.T) {
	url, _ := newQueues(t)
	q, err := sqsqueue.New(client, sqsqueue.Options{QueueURL: url})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		body string
		ok   bool
	}{
		{"plain", true}, {"tab\tnewline\n", true}, {"emoji \U0001F600", true},
		{"", false}, {"nul \x00", false}, {"bell \x07", false}, {"bad utf8 \xff", false}, {"\uFFFE", false},
	}
	for _, tc := range cases {
		if got := sqsqueue.ValidBody(tc.body); got != tc.ok {
			t.Errorf("ValidBody(%q) = %v, want %v", tc.body, got, tc.ok)
		}
	}
	failed, err := q.SendBatch(context.Background(), []queue.SendEntry{{ID: "a", Body: "ok"}, {ID: "b", Body: "\x00"}})
	if err != nil || len(failed) != 1 || failed[0].ID != "b" || !failed[0].SenderFault {
		t.Fatalf("SendBatch: %+v %v", failed, err)
	}
}

// TestSendBatchRetriesFailedEntries: an entry that fails without a sender
// fault (SendMessageBatch "Failed" with SenderFault false, in a 200 reply)
// is re-sent alone; a sender fault is reported, not retried. The server is
// a loopback stand-in answering in the documented SendMessageBatch shape.
func TestSendBatchRetriesFailedEntries(t *testing.T) {
	var mu sync.Mutex
	var calls [][]string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch" {
			t.Errorf("target %q", r.Header.Get("X-Amz-Target"))
		}
		var in struct {
			Entries []struct{ Id, MessageBody string }
		}
		json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		call := len(calls)
		var ids []string
		for _, e := range in.Entries {
			ids = append(ids, e.Id)
		}
		calls = append(calls, ids)
		mu.Unlock()
		ok, failed := []map[string]any{}, []map[string]any{}
		for _, e := range in.Entries {
			switch {
			case e.Id == "flaky" && call == 0:
				failed = append(failed, map[string]any{"Id": e.Id, "SenderFault": false, "Code": "InternalError", "Message": "try again"})
			case e.Id == "refused":
				failed = append(failed, map[string]any{"Id": e.Id, "SenderFault": true, "Code": "InvalidParameterValue", "Message": "no"})
			default:
				sum := md5.Sum([]byte(e.MessageBody))
				ok = append(ok, map[string]any{"Id": e.Id, "MessageId": "m-" + e.Id, "MD5OfMessageBody": hex.EncodeToString(sum[:])})
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		json.NewEncoder(w).Encode(map[string]any{"Successful": ok, "Failed": failed})
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	defer srv.Close()
	cfg, err := awstest.Config(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	q, err := sqsqueue.New(sqsqueue.NewClient(cfg), sqsqueue.Options{QueueURL: srv.URL + "/000000000000/q",
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	failed, err := q.SendBatch(context.Background(), []queue.SendEntry{{ID: "a", Body: "1"}, {ID: "flaky", Body: "2"}, {ID: "refused", Body: "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].ID != "refused" || !failed[0].SenderFault {
		t.Fatalf("failures %+v, want only the sender fault", failed)
	}
	if fmt.Sprint(calls) != "[[a flaky refused] [flaky]]" || len(slept) != 1 {
		t.Fatalf("calls %v, sleeps %v", calls, slept)
	}
}
