// Package ebbus is the bus.Bus driver for Amazon EventBridge
// (aws-sdk-go-v2 PutEvents). PutEvents can fail per entry while the call
// succeeds (FailedEntryCount > 0, each failed entry carrying ErrorCode and
// ErrorMessage in the position of its request entry); Put retries exactly
// the failed entries with backoff and fails only if some remain.
//
// IAM: events:PutEvents on the bus.
package ebbus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/fault"
)

// MaxEntries is the PutEvents limit per call.
const MaxEntries = 10

// Defaults for Options.
const (
	DefaultAttempts = 4
	DefaultBackoff  = 100 * time.Millisecond
	DefaultTimeout  = 10 * time.Second
)

// Options configure the bus.
type Options struct {
	// BusName is the event bus name or ARN ("default" when empty).
	BusName string
	// Attempts bounds the tries per entry.
	Attempts int
	// Backoff is the first wait before retrying failed entries; it doubles.
	Backoff time.Duration
	Timeout time.Duration
	// Sleep waits between retries (context-aware time.Sleep when nil).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Bus publishes to EventBridge.
type Bus struct {
	c    *eventbridge.Client
	opts Options
}

var _ bus.Bus = (*Bus)(nil)

// New returns the bus.
func New(c *eventbridge.Client, opts Options) *Bus {
	if opts.BusName == "" {
		opts.BusName = "default"
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Sleep == nil {
		opts.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	return &Bus{c: c, opts: opts}
}

// NewClient builds the EventBridge client for cfg.
func NewClient(cfg aws.Config) *eventbridge.Client { return eventbridge.NewFromConfig(cfg) }

// Put implements bus.Bus, in calls of up to 10 entries.
func (b *Bus) Put(ctx context.Context, events []bus.Event) error {
	for start := 0; start < len(events); start += MaxEntries {
		if err := b.putBatch(ctx, events[start:min(start+MaxEntries, len(events))]); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bus) putBatch(ctx context.Context, events []bus.Event) error {
	op := fmt.Sprintf("eventbridge PutEvents %s", b.opts.BusName)
	pending := make([]types.PutEventsRequestEntry, len(events))
	for i, e := range events {
		pending[i] = types.PutEventsRequestEntry{
			EventBusName: aws.String(b.opts.BusName),
			Source:       aws.String(e.Source),
			DetailType:   aws.String(e.DetailType),
			Detail:       aws.String(string(e.Detail)),
			Resources:    e.Resources,
		}
		if !e.Time.IsZero() {
			pending[i].Time = aws.Time(e.Time)
		}
	}
	backoff := b.opts.Backoff
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
		out, err := b.c.PutEvents(cctx, &eventbridge.PutEventsInput{Entries: pending})
		cancel()
		if err != nil {
			return awsconf.Classify(op, err, nil)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		if len(out.Entries) != len(pending) {
			return fault.New(fault.Unknown, op, fmt.Errorf("reply has %d entries for %d sent", len(out.Entries), len(pending)))
		}
		var retry []types.PutEventsRequestEntry
		var reasons []string
		for i, r := range out.Entries {
			if r.ErrorCode == nil && r.EventId != nil {
				continue
			}
			retry = append(retry, pending[i])
			reasons = append(reasons, fmt.Sprintf("%s: %s", aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage)))
		}
		if len(retry) == 0 {
			return nil
		}
		if attempt >= b.opts.Attempts {
			return fault.New(fault.Transient, op, fmt.Errorf("%d of %d entries failed after %d attempts: %s",
				len(retry), len(events), attempt, strings.Join(reasons, "; ")))
		}
		pending = retry
		if err := b.opts.Sleep(ctx, backoff); err != nil {
			return fault.New(fault.Canceled, op, errors.Join(err, errors.New(strings.Join(reasons, "; "))))
		}
		backoff *= 2
	}
}
