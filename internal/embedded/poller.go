package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/serverless-elt/elt/internal/queue"
)

// BatchResult is what the transform reports for one batch of messages.
type BatchResult struct {
	// Failed are the message ids to redeliver (batchItemFailures).
	Failed []string
	// Records decoded, rows written to silver, records quarantined and files
	// written, over the messages that succeeded.
	Records     int
	SilverRows  int
	Duplicates  int // dropped as repeats of an event_id within a chunk
	Quarantined int
	Files       int
}

// TransformFunc is the transform task as the poller invokes it (the event
// source mapping of Lambda + SQS). An error fails the whole batch.
type TransformFunc func(ctx context.Context, msgs []queue.Message) (BatchResult, error)

// Poller plays Lambda's SQS event source mapping: it receives batches of up
// to 10 messages, invokes transform, deletes the messages that succeeded and
// leaves the failed ones to become visible again. The queue moves a message
// that keeps failing to its dead-letter queue after maxReceiveCount receives.
type Poller struct {
	q          queue.Queue
	transform  TransformFunc
	batch      int
	visibility time.Duration
	// retryAfter, when > 0, shortens the wait before a failed message is
	// redelivered (ChangeVisibility) so a local run converges without
	// waiting out the whole visibility timeout. A crashed transform still
	// leaves its messages hidden for the full timeout.
	retryAfter time.Duration
	log        *slog.Logger
}

// PollResult counts one or more polls.
type PollResult struct {
	Batches  int
	Received int
	Deleted  int
	Failed   int // messages left for redelivery
	Batch    BatchResult
}

func (p *PollResult) add(o PollResult) {
	p.Batches += o.Batches
	p.Received += o.Received
	p.Deleted += o.Deleted
	p.Failed += o.Failed
	p.Batch.Records += o.Batch.Records
	p.Batch.SilverRows += o.Batch.SilverRows
	p.Batch.Duplicates += o.Batch.Duplicates
	p.Batch.Quarantined += o.Batch.Quarantined
	p.Batch.Files += o.Batch.Files
}

// PollOnce receives one batch (waiting up to wait for it) and processes it.
// Received is 0 when the queue had nothing visible.
func (p *Poller) PollOnce(ctx context.Context, wait time.Duration) (PollResult, error) {
	var res PollResult
	msgs, err := p.q.Receive(ctx, p.batch, p.visibility, wait)
	if err != nil {
		return res, fmt.Errorf("receive: %w", err)
	}
	if len(msgs) == 0 {
		return res, nil
	}
	res.Batches, res.Received = 1, len(msgs)
	br, err := p.transform(ctx, msgs)
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		// The invocation failed: every message comes back after its
		// visibility timeout (Lambda does the same).
		p.log.Warn("poll.batch_failed", "messages", len(msgs), "err", err)
		res.Failed = len(msgs)
		p.retrySoon(ctx, msgs)
		return res, nil
	}
	res.Batch = br
	failed := make(map[string]bool, len(br.Failed))
	for _, id := range br.Failed {
		failed[id] = true
	}
	var retry []queue.Message
	for _, m := range msgs {
		if failed[m.MessageID] {
			retry = append(retry, m)
			continue
		}
		if err := p.q.Delete(ctx, m.ReceiptHandle); err != nil {
			// Not deleted: it is delivered again and transform overwrites
			// the same outputs.
			p.log.Warn("poll.delete_failed", "message", m.MessageID, "err", err)
			res.Failed++
			continue
		}
		res.Deleted++
	}
	res.Failed += len(retry)
	if len(retry) > 0 {
		p.log.Info("poll.partial_failure", "failed", len(retry), "of", len(msgs))
		p.retrySoon(ctx, retry)
	}
	return res, nil
}

func (p *Poller) retrySoon(ctx context.Context, msgs []queue.Message) {
	if p.retryAfter <= 0 {
		return
	}
	for _, m := range msgs {
		if err := p.q.ChangeVisibility(ctx, m.ReceiptHandle, p.retryAfter); err != nil {
			p.log.Warn("poll.change_visibility_failed", "message", m.MessageID, "err", err)
		}
	}
}

// Drain polls without waiting until a receive comes back empty.
func (p *Poller) Drain(ctx context.Context) (PollResult, error) {
	var total PollResult
	for {
		r, err := p.PollOnce(ctx, 0)
		total.add(r)
		if err != nil || r.Received == 0 {
			return total, err
		}
	}
}
