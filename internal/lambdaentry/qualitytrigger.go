package lambdaentry

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/rules"
	"github.com/serverless-elt/elt/internal/sfnclient"
)

// QualityTrigger serves quality_trigger, the target of the EventBridge rule
// on PartitionReady events: it starts the quality-gate state machine
// (ELT_QUALITY_GATE_ARN, required) for the event's partition under the
// execution name internal/rules gives it, the same name the embedded rule
// uses. ELT_SILVER_PREFIX (default silver/) is the silver prefix when the
// event's partition prefix has another shape.
func QualityTrigger(ctx context.Context, rt *Runtime) (Handler, error) {
	arn, err := Required(rt.Env, EnvQualityGateArn)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":stateMachine:") {
		return nil, &ConfigError{Var: EnvQualityGateArn, Reason: fmt.Sprintf("%q is not a state machine ARN", arn)}
	}
	silverPrefix, err := prefix(rt.Env, EnvSilverPrefix, DefaultSilverPrefix)
	if err != nil {
		return nil, err
	}
	c := sfnclient.New(sfnclient.NewClient(rt.AWS), sfnclient.Options{})
	q := &qualityTrigger{
		stateMachine: arn,
		silverPrefix: silverPrefix,
		name:         rules.QualityGateExecutionName,
		input:        rules.QualityGateInput,
		start:        c.Start,
		log:          rt.Log,
	}
	return q.handle, nil
}

// TriggerOutput is what quality_trigger returns (EventBridge discards it;
// it is for logs and tests).
type TriggerOutput struct {
	ExecutionArn string `json:"execution_arn,omitempty"`
	Name         string `json:"name"`
	// AlreadyStarted: an execution of that name exists, so this event is a
	// duplicate delivery of one already handled.
	AlreadyStarted bool `json:"already_started"`
}

// startFunc starts a named execution (sfnclient.Client.Start).
type startFunc func(ctx context.Context, stateMachineArn, name string, input json.RawMessage) (string, error)

// qualityTrigger starts the quality-gate workflow for one PartitionReady
// event. An EventBridge target cannot name the execution it starts, so this
// function does, with a name derived from the partition and its files: a
// duplicate event (EventBridge delivers at least once, and transform emits
// again when a batch is redelivered) maps to the same name, and Step
// Functions refuses a second execution of a name with ExecutionAlreadyExists,
// which is success here. New files in the partition give a new name and a
// new run.
type qualityTrigger struct {
	stateMachine string
	silverPrefix string
	name         func(bus.PartitionReady) string
	input        func(bus.PartitionReady, string) map[string]any
	start        startFunc
	log          *slog.Logger
}

func (q *qualityTrigger) handle(ctx context.Context, event json.RawMessage) (any, error) {
	ev, err := decode[events.EventBridgeEvent](event, "EventBridge")
	if err != nil {
		return nil, &InvalidInputError{Task: "quality_trigger", Err: err}
	}
	if ev.Source != bus.Source || ev.DetailType != bus.DetailTypePartitionReady {
		return nil, &InvalidInputError{Task: "quality_trigger", Err: fmt.Errorf("event %q from %q is not %s from %s (check the rule's pattern)", ev.DetailType, ev.Source, bus.DetailTypePartitionReady, bus.Source)}
	}
	var d bus.PartitionReady
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return nil, &InvalidInputError{Task: "quality_trigger", Err: fmt.Errorf("decode PartitionReady detail: %w", err)}
	}
	if d.Bucket == "" || d.RecordType == "" || d.Dt == "" {
		return nil, &InvalidInputError{Task: "quality_trigger", Err: fmt.Errorf("PartitionReady detail lacks bucket, record_type or dt: %s", ev.Detail)}
	}
	name := q.name(d)
	input, err := json.Marshal(q.input(d, q.silverPrefix))
	if err != nil {
		return nil, fmt.Errorf("encode quality-gate input: %w", err)
	}
	arn, err := q.start(ctx, q.stateMachine, name, input)
	switch {
	case fault.Is(err, fault.AlreadyExists):
		q.log.Info("quality_trigger.duplicate", "name", name, "record_type", d.RecordType, "dt", d.Dt)
		return TriggerOutput{Name: name, AlreadyStarted: true}, nil
	case err != nil:
		// Returned to EventBridge, whose retry policy (terraform) delivers
		// the event again.
		return nil, fmt.Errorf("start quality gate %s for %s dt=%s: %w", name, d.RecordType, d.Dt, err)
	}
	q.log.Info("quality_trigger.started", "name", name, "execution_arn", arn, "record_type", d.RecordType, "dt", d.Dt, "files", len(d.Files))
	return TriggerOutput{ExecutionArn: arn, Name: name}, nil
}
