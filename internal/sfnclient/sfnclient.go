// Package sfnclient is the Step Functions client the ops and ge commands
// use to start workflows and follow them: start, describe, wait, history
// and listing, over aws-sdk-go-v2's sfn client. The same code talks to AWS
// Step Functions and to our local endpoint (`elt sfn serve`); only the
// endpoint differs. Errors carry fault codes (a reused execution name is
// fault.AlreadyExists, an unknown execution or state machine
// fault.NotFound).
package sfnclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/fault"
)

// Execution statuses (DescribeExecution).
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Defaults for Options.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultPoll     = time.Second
	DefaultMaxPoll  = 10 * time.Second
	historyPageSize = 1000
)

// Options tune the client.
type Options struct {
	// Timeout bounds each API call.
	Timeout time.Duration
	// Poll is Wait's first interval; it grows by half up to MaxPoll.
	Poll, MaxPoll time.Duration
	// Sleep waits between polls (context-aware time.Sleep when nil).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client follows executions.
type Client struct {
	c    *sfn.Client
	opts Options
}

// New returns a client.
func New(c *sfn.Client, opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.MaxPoll < opts.Poll {
		opts.MaxPoll = max(DefaultMaxPoll, opts.Poll)
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
	return &Client{c: c, opts: opts}
}

// NewClient builds the sfn client for cfg (AWS, or a local endpoint through
// awsconf.Options.Endpoint / AWS_ENDPOINT_URL_SFN).
func NewClient(cfg aws.Config) *sfn.Client { return sfn.NewFromConfig(cfg) }

// Execution is one execution as DescribeExecution reports it.
type Execution struct {
	Arn             string          `json:"executionArn"`
	StateMachineArn string          `json:"stateMachineArn"`
	Name            string          `json:"name"`
	Status          string          `json:"status"`
	StartDate       time.Time       `json:"startDate"`
	StopDate        time.Time       `json:"stopDate,omitzero"`
	Input           json.RawMessage `json:"input,omitempty"`
	Output          json.RawMessage `json:"output,omitempty"`
	Error           string          `json:"error,omitempty"`
	Cause           string          `json:"cause,omitempty"`
}

// Done reports whether the execution has finished.
func (e Execution) Done() bool {
	return e.Status != "" && e.Status != StatusRunning && e.Status != "PENDING_REDRIVE"
}

// Event is one history event; Details holds the event's details object
// (e.g. taskFailedEventDetails) as the API returns it.
type Event struct {
	ID         int64           `json:"id"`
	PreviousID int64           `json:"previousEventId"`
	Type       string          `json:"type"`
	Timestamp  time.Time       `json:"timestamp"`
	Details    json.RawMessage `json:"details,omitempty"`
}

var sfnCodes = map[string]fault.Code{
	"ExecutionAlreadyExists":   fault.AlreadyExists,
	"ExecutionDoesNotExist":    fault.NotFound,
	"StateMachineDoesNotExist": fault.NotFound,
	"InvalidArn":               fault.InvalidArgument,
	"InvalidName":              fault.InvalidArgument,
	"InvalidExecutionInput":    fault.InvalidArgument,
	"ExecutionLimitExceeded":   fault.Transient,
}

func classify(op string, err error) error { return awsconf.Classify(op, err, sfnCodes) }

func (c *Client) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.Timeout)
}

func raw(s *string) json.RawMessage {
	if s == nil || *s == "" {
		return nil
	}
	return json.RawMessage(*s)
}

// Start starts an execution. name may be empty (the service picks one); a
// name already used on the state machine is fault.AlreadyExists (Standard
// workflows keep names unique for 90 days, which makes a named start
// idempotent for callers that derive the name from their input).
func (c *Client) Start(ctx context.Context, stateMachineArn, name string, input json.RawMessage) (string, error) {
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	if !json.Valid(input) {
		return "", fault.New(fault.InvalidArgument, "sfn StartExecution "+stateMachineArn, errors.New("input is not JSON"))
	}
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(stateMachineArn), Input: aws.String(string(input))}
	if name != "" {
		in.Name = aws.String(name)
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.c.StartExecution(ctx, in)
	if err != nil {
		return "", classify(fmt.Sprintf("sfn StartExecution %s %s", stateMachineArn, name), err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Describe reads an execution's status, output or error.
func (c *Client) Describe(ctx context.Context, executionArn string) (Execution, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionArn)})
	if err != nil {
		return Execution{}, classify("sfn DescribeExecution "+executionArn, err)
	}
	return Execution{
		Arn: aws.ToString(out.ExecutionArn), StateMachineArn: aws.ToString(out.StateMachineArn),
		Name: aws.ToString(out.Name), Status: string(out.Status),
		StartDate: aws.ToTime(out.StartDate), StopDate: aws.ToTime(out.StopDate),
		Input: raw(out.Input), Output: raw(out.Output), Error: aws.ToString(out.Error), Cause: aws.ToString(out.Cause),
	}, nil
}

// Wait polls Describe until the execution finishes or ctx ends.
func (c *Client) Wait(ctx context.Context, executionArn string) (Execution, error) {
	d := c.opts.Poll
	for {
		x, err := c.Describe(ctx, executionArn)
		if err != nil {
			return Execution{}, err
		}
		if x.Done() {
			return x, nil
		}
		if err := c.opts.Sleep(ctx, d); err != nil {
			return x, fault.New(fault.Canceled, "sfn wait "+executionArn, err)
		}
		d = min(d+d/2, c.opts.MaxPoll)
	}
}

// History returns the execution's whole event history, oldest first.
func (c *Client) History(ctx context.Context, executionArn string) ([]Event, error) {
	var events []Event
	p := sfn.NewGetExecutionHistoryPaginator(c.c, &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(executionArn), MaxResults: historyPageSize,
	})
	for p.HasMorePages() {
		cctx, cancel := c.ctx(ctx)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, classify("sfn GetExecutionHistory "+executionArn, err)
		}
		for _, e := range page.Events {
			ev := Event{ID: e.Id, PreviousID: e.PreviousEventId, Type: string(e.Type), Timestamp: aws.ToTime(e.Timestamp)}
			ev.Details = details(e)
			events = append(events, ev)
		}
	}
	return events, nil
}

// details is the one non-nil *EventDetails field of e, as JSON.
func details(e types.HistoryEvent) json.RawMessage {
	b, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(b, &all) != nil {
		return nil
	}
	for k, v := range all {
		if len(k) > len("EventDetails") && k[len(k)-len("EventDetails"):] == "EventDetails" && string(v) != "null" {
			return v
		}
	}
	return nil
}

// List returns up to limit executions of a state machine, newest first,
// optionally only those with a status ("" for all; limit <= 0 for all).
func (c *Client) List(ctx context.Context, stateMachineArn, status string, limit int) ([]Execution, error) {
	in := &sfn.ListExecutionsInput{StateMachineArn: aws.String(stateMachineArn), MaxResults: 100}
	if status != "" {
		in.StatusFilter = types.ExecutionStatus(status)
	}
	var out []Execution
	p := sfn.NewListExecutionsPaginator(c.c, in)
	for p.HasMorePages() && (limit <= 0 || len(out) < limit) {
		cctx, cancel := c.ctx(ctx)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, classify("sfn ListExecutions "+stateMachineArn, err)
		}
		for _, x := range page.Executions {
			if limit > 0 && len(out) >= limit {
				break
			}
			out = append(out, Execution{
				Arn: aws.ToString(x.ExecutionArn), StateMachineArn: aws.ToString(x.StateMachineArn), Name: aws.ToString(x.Name),
				Status: string(x.Status), StartDate: aws.ToTime(x.StartDate), StopDate: aws.ToTime(x.StopDate),
			})
		}
	}
	return out, nil
}

// StateMachineArn finds a state machine by name (ListStateMachines).
func (c *Client) StateMachineArn(ctx context.Context, name string) (string, error) {
	p := sfn.NewListStateMachinesPaginator(c.c, &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		cctx, cancel := c.ctx(ctx)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return "", classify("sfn ListStateMachines", err)
		}
		for _, sm := range page.StateMachines {
			if aws.ToString(sm.Name) == name {
				return aws.ToString(sm.StateMachineArn), nil
			}
		}
	}
	return "", fault.New(fault.NotFound, "sfn state machine "+name, nil)
}
