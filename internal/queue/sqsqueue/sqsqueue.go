// Package sqsqueue is the queue.Queue driver for Amazon SQS standard queues
// (aws-sdk-go-v2). It runs the contract suite in queue/queuetest against
// local-aws-sqs (npm) and goaws (Go) on loopback; what neither server
// reproduces (Depth's ApproximateNumberOfMessages, ListMessageMoveTasks
// dropping finished tasks' handles) is checked against documented replies
// (recorded_test.go). See docs/decisions.md.
//
// IAM: SendBatch needs sqs:SendMessage (which authorises
// SendMessageBatch); Receive, Delete, ChangeVisibility and Depth need
// sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and
// sqs:GetQueueAttributes. Redrive needs sqs:StartMessageMoveTask and
// sqs:ListMessageMoveTasks on the DLQ (plus Receive/Delete on the DLQ and
// SendMessage on the queue for partial redrives).
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/queue"
)

// Limits from the SQS developer guide (quotas for messages).
const (
	MaxBatch   = 10
	MaxWait    = 20 * time.Second
	MaxVisible = 12 * time.Hour
)

// Defaults for Options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultSendAttempts = 3
	DefaultBackoff      = 50 * time.Millisecond
	DefaultMovePoll     = time.Second
)

// Options configure a queue.
type Options struct {
	// QueueURL is the queue (required).
	QueueURL string
	// DeadLetterURL, when set, is the queue's dead-letter queue; the queue
	// then implements queue.DeadLettered.
	DeadLetterURL string
	// Timeout bounds each call apart from long polls (which get Timeout on
	// top of their wait).
	Timeout time.Duration
	// SendAttempts bounds the attempts per entry that failed without a
	// sender fault (throttling, internal errors) inside one SendBatch.
	SendAttempts int
	// Backoff is the wait before the first per-entry retry; it doubles.
	Backoff time.Duration
	// Sleep waits between retries and move-task polls (context-aware
	// time.Sleep when nil).
	Sleep func(ctx context.Context, d time.Duration) error
	// MovePoll is how often Redrive checks a message move task.
	MovePoll time.Duration
	// Log receives redrive decisions (slog.Default when nil).
	Log *slog.Logger
}

// Queue is an SQS queue.
type Queue struct {
	c    *sqs.Client
	opts Options
}

// DLQueue is a Queue with a dead-letter queue.
type DLQueue struct {
	*Queue
	dead *Queue
}

var (
	_ queue.Queue        = (*Queue)(nil)
	_ queue.DeadLettered = (*DLQueue)(nil)
)

// New returns the queue; with DeadLetterURL set the result is a *DLQueue.
func New(c *sqs.Client, opts Options) (queue.Queue, error) {
	if opts.QueueURL == "" {
		return nil, errors.New("sqsqueue: QueueURL is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.SendAttempts <= 0 {
		opts.SendAttempts = DefaultSendAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.MovePoll <= 0 {
		opts.MovePoll = DefaultMovePoll
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	q := &Queue{c: c, opts: opts}
	if opts.DeadLetterURL == "" {
		return q, nil
	}
	dopts := opts
	dopts.QueueURL, dopts.DeadLetterURL = opts.DeadLetterURL, ""
	return &DLQueue{Queue: q, dead: &Queue{c: c, opts: dopts}}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var sqsCodes = map[string]fault.Code{
	"ReceiptHandleIsInvalid": fault.NotFound,
	"InvalidParameterValue":  fault.InvalidArgument,
	"MessageNotInflight":     fault.PreconditionFailed,
	"MessageNotInFlight":     fault.PreconditionFailed,
	"QueueDoesNotExist":      fault.NotFound,
	"UnsupportedOperation":   fault.InvalidArgument,
	"RequestThrottled":       fault.Transient,
	"KmsThrottled":           fault.Transient,
}

func (q *Queue) classify(op string, err error) error {
	return awsconf.Classify(fmt.Sprintf("sqs %s %s", op, q.opts.QueueURL), err, sqsCodes)
}

func (q *Queue) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, q.opts.Timeout)
}

// ValidBody reports whether SQS accepts body: #x9 | #xA | #xD | #x20 to
// #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF (SendMessage,
// "MessageBody"), valid UTF-8, non-empty.
func ValidBody(body string) bool {
	if body == "" || !utf8.ValidString(body) {
		return false
	}
	for _, r := range body {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// SendBatch implements queue.Queue. Entries whose bodies SQS would refuse
// are reported as sender faults without a call; entries that fail without a
// sender fault are retried (up to SendAttempts) before being reported.
func (q *Queue) SendBatch(ctx context.Context, entries []queue.SendEntry) ([]queue.SendFailure, error) {
	op := fmt.Sprintf("sqs SendMessageBatch %s", q.opts.QueueURL)
	if len(entries) == 0 || len(entries) > MaxBatch {
		return nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("batch of %d entries, want 1..%d", len(entries), MaxBatch))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.ID == "" || seen[e.ID] {
			return nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("entry id %q empty or repeated", e.ID))
		}
		seen[e.ID] = true
	}
	var failures []queue.SendFailure
	pending := make([]queue.SendEntry, 0, len(entries))
	for _, e := range entries {
		if !ValidBody(e.Body) {
			failures = append(failures, queue.SendFailure{ID: e.ID, SenderFault: true, Code: "InvalidMessageContents",
				Message: "message body is empty or has characters outside the SQS allowed set"})
			continue
		}
		pending = append(pending, e)
	}
	byID := map[string]queue.SendEntry{}
	for _, e := range pending {
		byID[e.ID] = e
	}
	backoff := q.opts.Backoff
	for attempt := 1; len(pending) > 0; attempt++ {
		batch := make([]types.SendMessageBatchRequestEntry, len(pending))
		for i, e := range pending {
			batch[i] = types.SendMessageBatchRequestEntry{Id: aws.String(e.ID), MessageBody: aws.String(e.Body), MessageAttributes: attrsIn(e.Attributes)}
		}
		cctx, cancel := q.callCtx(ctx)
		out, err := q.c.SendMessageBatch(cctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.opts.QueueURL), Entries: batch})
		cancel()
		if err != nil {
			return nil, q.classify("SendMessageBatch", err)
		}
		var retry []queue.SendEntry
		for _, f := range out.Failed {
			id := aws.ToString(f.Id)
			e, ok := byID[id]
			if !ok {
				return nil, fault.New(fault.Unknown, op, fmt.Errorf("reply names unknown entry %q", id))
			}
			if !f.SenderFault && attempt < q.opts.SendAttempts {
				retry = append(retry, e)
				continue
			}
			failures = append(failures, queue.SendFailure{ID: id, SenderFault: f.SenderFault, Code: aws.ToString(f.Code), Message: aws.ToString(f.Message)})
		}
		pending = retry
		if len(pending) > 0 {
			if err := q.opts.Sleep(ctx, backoff); err != nil {
				return nil, fault.New(fault.Canceled, op, err)
			}
			backoff *= 2
		}
	}
	return failures, nil
}

func attrsIn(m map[string]string) map[string]types.MessageAttributeValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(m))
	for k, v := range m {
		out[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return out
}

// seconds rounds a duration up to whole seconds (SQS's unit).
func seconds(d time.Duration) int32 {
	return int32(math.Ceil(d.Seconds()))
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, n int, visibility, wait time.Duration) ([]queue.Message, error) {
	if n < 1 || n > MaxBatch {
		return nil, fault.New(fault.InvalidArgument, "sqs ReceiveMessage "+q.opts.QueueURL, fmt.Errorf("max %d, want 1..%d", n, MaxBatch))
	}
	wait = min(max(wait, 0), MaxWait)
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.opts.QueueURL),
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             seconds(wait),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if visibility > 0 {
		in.VisibilityTimeout = seconds(min(visibility, MaxVisible))
	}
	cctx, cancel := context.WithTimeout(ctx, q.opts.Timeout+wait)
	defer cancel()
	out, err := q.c.ReceiveMessage(cctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fault.New(fault.Canceled, "sqs ReceiveMessage "+q.opts.QueueURL, ctx.Err())
		}
		return nil, q.classify("ReceiveMessage", err)
	}
	msgs := make([]queue.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := queue.Message{
			MessageID:     aws.ToString(m.MessageId),
			ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body:          aws.ToString(m.Body),
			ReceiveCount:  1,
		}
		if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil && n > 0 {
			msg.ReceiveCount = n
		}
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msg.SentAt = time.UnixMilli(ms).UTC()
		}
		for k, v := range m.MessageAttributes {
			if v.StringValue != nil {
				if msg.Attributes == nil {
					msg.Attributes = map[string]string{}
				}
				msg.Attributes[k] = *v.StringValue
			}
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// Delete implements queue.Queue.
func (q *Queue) Delete(ctx context.Context, receiptHandle string) error {
	ctx, cancel := q.callCtx(ctx)
	defer cancel()
	_, err := q.c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.opts.QueueURL), ReceiptHandle: aws.String(receiptHandle)})
	return q.classify("DeleteMessage", err)
}

// ChangeVisibility implements queue.Queue.
func (q *Queue) ChangeVisibility(ctx context.Context, receiptHandle string, visibility time.Duration) error {
	ctx, cancel := q.callCtx(ctx)
	defer cancel()
	_, err := q.c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.opts.QueueURL), ReceiptHandle: aws.String(receiptHandle),
		VisibilityTimeout: seconds(min(max(visibility, 0), MaxVisible)),
	})
	return q.classify("ChangeMessageVisibility", err)
}

// Depth implements queue.Queue.
func (q *Queue) Depth(ctx context.Context) (queue.Depth, error) {
	attrs, err := q.attributes(ctx,
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
	if err != nil {
		return queue.Depth{}, err
	}
	num := func(n types.QueueAttributeName) int {
		v, _ := strconv.Atoi(attrs[string(n)])
		return v
	}
	return queue.Depth{
		Visible:  num(types.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: num(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  num(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}

func (q *Queue) attributes(ctx context.Context, names ...types.QueueAttributeName) (map[string]string, error) {
	ctx, cancel := q.callCtx(ctx)
	defer cancel()
	out, err := q.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.opts.QueueURL), AttributeNames: names})
	if err != nil {
		return nil, q.classify("GetQueueAttributes", err)
	}
	return out.Attributes, nil
}

// DeadLetters implements queue.DeadLettered.
func (d *DLQueue) DeadLetters() queue.Queue { return d.dead }

// ErrMoveTaskUnsupported is wrapped into the log line when a server lacks
// the message move task API and Redrive moves messages itself.
var ErrMoveTaskUnsupported = errors.New("server does not implement StartMessageMoveTask")

// Redrive implements queue.DeadLettered. Redriving everything (max <= 0)
// uses SQS's own message move task (StartMessageMoveTask, then
// ListMessageMoveTasks until it finishes), which resets receive counts and
// keeps message ids. A bounded redrive (max > 0), or a server without the
// move task API, moves messages one by one: receive from the DLQ, send to
// the queue, delete from the DLQ (at least once: a crash between send and
// delete leaves a copy in both, which transform's deterministic outputs
// absorb).
func (d *DLQueue) Redrive(ctx context.Context, max int) (int, error) {
	if max <= 0 {
		n, err := d.moveTask(ctx)
		if err == nil {
			return n, nil
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || (ae.ErrorCode() != "UnsupportedOperation" && ae.ErrorCode() != "InvalidAction") {
			return n, err // a failed task may have moved some messages
		}
		d.opts.Log.Warn("queue.redrive_fallback", "dlq", d.dead.opts.QueueURL, "reason", ErrMoveTaskUnsupported.Error())
	}
	return d.moveByHand(ctx, max)
}

func (d *DLQueue) moveTask(ctx context.Context) (int, error) {
	arns := make([]string, 2)
	for i, q := range []*Queue{d.dead, d.Queue} {
		attrs, err := q.attributes(ctx, types.QueueAttributeNameQueueArn)
		if err != nil {
			return 0, err
		}
		arns[i] = attrs[string(types.QueueAttributeNameQueueArn)]
	}
	// The newest earlier task's start time: a finished task listed later
	// is ours only if it started after that (see findMoveTask).
	var baseline int64
	cctx, cancel := d.callCtx(ctx)
	before, err := d.c.ListMessageMoveTasks(cctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(arns[0]), MaxResults: aws.Int32(10)})
	cancel()
	if err != nil {
		return 0, d.dead.classify("ListMessageMoveTasks", err)
	}
	for _, t := range before.Results {
		baseline = max(baseline, t.StartedTimestamp)
	}
	cctx, cancel = d.callCtx(ctx)
	start, err := d.c.StartMessageMoveTask(cctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(arns[0]), DestinationArn: aws.String(arns[1])})
	cancel()
	if err != nil {
		return 0, d.dead.classify("StartMessageMoveTask", err)
	}
	handle := aws.ToString(start.TaskHandle)
	// ListMessageMoveTasks returns the source queue's most recent tasks,
	// newest first, and fills TaskHandle "only for tasks that are in
	// RUNNING status" (SQS API reference, ListMessageMoveTasksResultEntry):
	// a finished task cannot be found by its handle. Ours is recognised by
	// the StartedTimestamp seen while it ran; if it was never seen running,
	// it is the newest task, finished, to our destination, started after
	// every task listed before we started ours (one active move task per
	// source queue).
	var started int64
	seen := false
	for {
		cctx, cancel := d.callCtx(ctx)
		list, err := d.c.ListMessageMoveTasks(cctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(arns[0]), MaxResults: aws.Int32(10)})
		cancel()
		if err != nil {
			return 0, d.dead.classify("ListMessageMoveTasks", err)
		}
		t, done := findMoveTask(list.Results, handle, arns[1], baseline, &started, &seen)
		if done {
			switch aws.ToString(t.Status) {
			case "COMPLETED":
				return int(t.ApproximateNumberOfMessagesMoved), nil
			default: // FAILED, CANCELLED
				return int(t.ApproximateNumberOfMessagesMoved), fault.New(fault.Unknown, "sqs message move task "+handle,
					fmt.Errorf("%s: %s", aws.ToString(t.Status), aws.ToString(t.FailureReason)))
			}
		}
		if err := d.opts.Sleep(ctx, d.opts.MovePoll); err != nil {
			return 0, fault.New(fault.Canceled, "sqs message move task "+handle, err)
		}
	}
}

// findMoveTask picks our task out of a ListMessageMoveTasks reply (newest
// first) and reports whether it has finished. baseline is the newest start
// time listed before our task began; started and seen carry what earlier
// polls learnt: the task's StartedTimestamp while it was running.
func findMoveTask(results []types.ListMessageMoveTasksResultEntry, handle, dest string, baseline int64, started *int64, seen *bool) (types.ListMessageMoveTasksResultEntry, bool) {
	for _, t := range results {
		if aws.ToString(t.TaskHandle) == handle {
			*started, *seen = t.StartedTimestamp, true
			if s := aws.ToString(t.Status); s == "RUNNING" || s == "CANCELLING" {
				return t, false
			}
			return t, true // a server that keeps handles on finished tasks
		}
	}
	for i, t := range results {
		if !*seen && i > 0 {
			break // never seen running: only the newest task can be ours
		}
		switch aws.ToString(t.Status) {
		case "RUNNING", "CANCELLING":
			continue
		}
		if d := aws.ToString(t.DestinationArn); d != "" && d != dest {
			continue
		}
		if *seen && t.StartedTimestamp != *started || !*seen && t.StartedTimestamp <= baseline {
			continue
		}
		return t, true
	}
	return types.ListMessageMoveTasksResultEntry{}, false
}

func (d *DLQueue) moveByHand(ctx context.Context, max int) (int, error) {
	moved := 0
	for max <= 0 || moved < max {
		n := MaxBatch
		if max > 0 {
			n = min(n, max-moved)
		}
		msgs, err := d.dead.Receive(ctx, n, d.opts.Timeout, 0)
		if err != nil {
			return moved, fmt.Errorf("redrive: %w", err)
		}
		if len(msgs) == 0 {
			return moved, nil
		}
		entries := make([]queue.SendEntry, len(msgs))
		for i, m := range msgs {
			entries[i] = queue.SendEntry{ID: strconv.Itoa(i), Body: m.Body, Attributes: m.Attributes}
		}
		failed, err := d.Queue.SendBatch(ctx, entries)
		if err != nil {
			return moved, fmt.Errorf("redrive: %w", err)
		}
		bad := map[string]bool{}
		for _, f := range failed {
			bad[f.ID] = true
		}
		for i, m := range msgs {
			if bad[strconv.Itoa(i)] {
				// Leave it in the DLQ; make it visible again for the next try.
				_ = d.dead.ChangeVisibility(ctx, m.ReceiptHandle, 0)
				continue
			}
			if err := d.dead.Delete(ctx, m.ReceiptHandle); err != nil {
				return moved, fmt.Errorf("redrive: %w", err)
			}
			moved++
		}
		if len(failed) > 0 {
			return moved, fault.New(fault.Transient, "sqs redrive "+d.dead.opts.QueueURL, fmt.Errorf("%d messages could not be sent back: %s", len(failed), failed[0].Message))
		}
	}
	return moved, nil
}

// NewClient builds the SQS client for cfg.
func NewClient(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }
