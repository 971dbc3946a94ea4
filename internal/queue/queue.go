// Package queue is the work queue between ingest and transform. Messages
// carry pointers to data, never the data. The embedded driver is durable on
// disk (boltqueue); the AWS driver is SQS (sqsqueue). Both pass the contract
// suite in queue/queuetest.
//
// Semantics follow SQS standard queues: at-least-once delivery, a visibility
// timeout per receive, a receive count per message, and a dead-letter queue
// that takes a message once it has been received MaxReceiveCount times
// without being deleted.
package queue

import (
	"context"
	"time"
)

// SendEntry is one message to send. ID is unique within a batch and is how
// per-entry failures are reported back.
type SendEntry struct {
	ID         string            `json:"id"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// SendFailure reports one entry of a batch that was not sent.
type SendFailure struct {
	ID string
	// SenderFault is true when retrying the same entry cannot succeed.
	SenderFault bool
	Code        string
	Message     string
}

// Message is one received message.
type Message struct {
	MessageID     string            `json:"messageId"`
	ReceiptHandle string            `json:"receiptHandle"`
	Body          string            `json:"body"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	// ReceiveCount is how many times this message has been received,
	// including this time (SQS ApproximateReceiveCount).
	ReceiveCount int       `json:"receiveCount"`
	SentAt       time.Time `json:"sentAt"`
}

// Depth counts the messages in a queue.
type Depth struct {
	Visible  int `json:"visible"`
	InFlight int `json:"in_flight"`
	Delayed  int `json:"delayed"`
}

// Queue is the interface the tasks depend on. A SendBatch takes at most 10
// entries (the SQS limit); callers split larger sends.
type Queue interface {
	// SendBatch sends up to 10 entries and returns the ones that failed.
	// A non-nil error means the whole call failed.
	SendBatch(ctx context.Context, entries []SendEntry) ([]SendFailure, error)
	// Receive returns up to max messages (max <= 10), hiding each for
	// visibility. It waits up to wait for at least one message.
	Receive(ctx context.Context, max int, visibility, wait time.Duration) ([]Message, error)
	// Delete acknowledges a message by its receipt handle.
	Delete(ctx context.Context, receiptHandle string) error
	// ChangeVisibility sets a received message's remaining visibility timeout;
	// zero makes it visible again at once.
	ChangeVisibility(ctx context.Context, receiptHandle string, visibility time.Duration) error
	// Depth reports approximate counts.
	Depth(ctx context.Context) (Depth, error)
}

// DeadLettered is implemented by a queue that has a dead-letter queue.
type DeadLettered interface {
	// DeadLetters returns the dead-letter queue itself.
	DeadLetters() Queue
	// Redrive moves up to max messages (max <= 0 means all) from the
	// dead-letter queue back to this queue with their receive counts reset,
	// and returns how many moved.
	Redrive(ctx context.Context, max int) (int, error)
}
