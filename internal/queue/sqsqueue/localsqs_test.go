package sqsqueue_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/queuetest"
	"github.com/serverless-elt/elt/internal/queue/sqsqueue"
)

// startLocalSQS starts local-aws-sqs for the whole test binary. A missing
// node/npm is not a failure here: the tests that need it skip with the
// reason.
func startLocalSQS() (*awstest.LocalSQS, *sqs.Client, error) {
	ctx := context.Background()
	s, err := awstest.StartLocalSQS(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := awstest.Config(ctx, s.URL)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, legacyAttributeNames) }), nil
}

// legacyAttributeNames copies ReceiveMessage's MessageSystemAttributeNames
// (what the adapter sends, the current API) into the legacy AttributeNames
// parameter, which local-aws-sqs 2.0.2 reads instead: without it the server
// returns no ApproximateReceiveCount or SentTimestamp. Real SQS accepts both
// ("AttributeNames ... supported for backward compatibility", ReceiveMessage
// in the SQS API reference), so this changes nothing but the server's view.
func legacyAttributeNames(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("LegacyAttributeNames",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if r, ok := in.Parameters.(*sqs.ReceiveMessageInput); ok && len(r.AttributeNames) == 0 {
				cp := *r
				for _, n := range r.MessageSystemAttributeNames {
					cp.AttributeNames = append(cp.AttributeNames, types.QueueAttributeName(n))
				}
				in.Parameters = &cp
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func needLocalSQS(t *testing.T) {
	t.Helper()
	switch {
	case errors.Is(localErr, awstest.ErrNoNode):
		t.Skip(localErr.Error())
	case localErr != nil:
		t.Fatalf("local-aws-sqs: %v", localErr)
	}
}

// localSQSDeviations are the contract subtests that depend on SQS behaviour
// local-aws-sqs 2.0.2 does not have. Its ApproximateNumberOfMessages counts
// in-flight messages too (its own move task computes the messages to move as
// ApproximateNumberOfMessages - ApproximateNumberOfMessagesNotVisible),
// whereas SQS counts only "messages available for retrieval"
// (GetQueueAttributes, SQS API reference). Depth is checked against
// documented replies in TestDepthRecordedReply.
//
// Its ChangeMessageVisibility also counts as a receive (it runs the receive
// path, ApproximateReceiveCount+1), whereas in SQS only ReceiveMessage
// counts; the contract subtest pins ReceiveCount after a change, so it is
// skipped and TestChangeVisibilityLocalSQS checks the timing on this server.
var localSQSDeviations = map[string]string{
	"Depth":            "ApproximateNumberOfMessages counts in-flight messages too",
	"ChangeVisibility": "ChangeMessageVisibility increments ApproximateReceiveCount",
}

// TestContractLocalSQS runs the whole queue contract suite over HTTP (AWS
// JSON 1.0 protocol) against local-aws-sqs, with two subtests skipped for the
// server's deviations above: receive counts, visibility timeouts, ChangeMessageVisibility,
// dead-lettering after maxReceiveCount and the message move task redrive
// run for real here (goaws cannot, see TestContract).
func TestContractLocalSQS(t *testing.T) {
	needLocalSQS(t)
	queuetest.Run(t, func(t *testing.T) queuetest.Harness {
		if why, ok := localSQSDeviations[t.Name()[strings.LastIndex(t.Name(), "/")+1:]]; ok {
			t.Skip("local-aws-sqs deviation: " + why)
		}
		url, dlq := newQueuesOn(t, localClient)
		q, err := sqsqueue.New(localClient, sqsqueue.Options{QueueURL: url, DeadLetterURL: dlq})
		if err != nil {
			t.Fatal(err)
		}
		return queuetest.Harness{Queue: q, MaxReceiveCount: 3, LenientStaleReceipts: true}
	})
}

// TestChangeVisibilityLocalSQS is the contract's ChangeVisibility subtest
// without its ReceiveCount checks (see localSQSDeviations): a timeout of 0
// makes the message visible at once; an extended one keeps it hidden past
// the original timeout and releases it after the new one.
func TestChangeVisibilityLocalSQS(t *testing.T) {
	needLocalSQS(t)
	ctx := context.Background()
	// No redrive policy: this server counts each change as a receive, so a
	// maxReceiveCount would dead-letter the message mid-test.
	q, err := sqsqueue.New(localClient, sqsqueue.Options{QueueURL: newPlainQueueOn(t, localClient)})
	if err != nil {
		t.Fatal(err)
	}
	const vis = time.Second
	if failed, err := q.SendBatch(ctx, []queue.SendEntry{{ID: "a", Body: "change me"}}); err != nil || len(failed) > 0 {
		t.Fatalf("send: %v %v", failed, err)
	}
	// One message per receive: local-aws-sqs's long poll keeps collecting
	// until it has MaxNumberOfMessages or the wait is over (SQS returns as
	// soon as it has any), so a 1s-visibility message would come back
	// several times in one reply.
	receive := func(wait time.Duration) []queue.Message {
		t.Helper()
		msgs, err := q.Receive(ctx, 1, vis, wait)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	m := receive(2 * vis)
	if len(m) != 1 {
		t.Fatalf("first receive: %+v", m)
	}
	if err := q.ChangeVisibility(ctx, m[0].ReceiptHandle, 0); err != nil {
		t.Fatalf("ChangeVisibility 0: %v", err)
	}
	if m = receive(2 * vis); len(m) != 1 {
		t.Fatalf("after ChangeVisibility 0: %+v, want the message at once", m)
	}
	if err := q.ChangeVisibility(ctx, m[0].ReceiptHandle, 3*vis); err != nil {
		t.Fatalf("ChangeVisibility extend: %v", err)
	}
	time.Sleep(vis + vis/2)
	if got := receive(0); len(got) != 0 {
		t.Fatalf("visible %d messages 1.5s into a 3s extension, want none", len(got))
	}
	time.Sleep(2 * vis)
	if m = receive(2 * vis); len(m) != 1 || m[0].Body != "change me" {
		t.Fatalf("after the extended timeout: %+v", m)
	}
}
