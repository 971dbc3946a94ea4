package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/notify"
	"github.com/serverless-elt/elt/internal/objstore"
)

// Services are the embedded backends the service integrations bind to.
// A nil backend makes its integrations fail with States.Runtime (an
// engine configuration problem, not a task failure).
type Services struct {
	Objects  objstore.Store
	Notifier notify.Notifier
	Bus      bus.Bus
}

func param(params any, name string) (any, bool) {
	m, ok := params.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[name]
	return v, ok
}

func stringParam(params any, name string, required bool) (string, error) {
	v, ok := param(params, name)
	if !ok || v == nil {
		if required {
			return "", &Error{Name: ErrTaskFailed, Cause: fmt.Sprintf("missing required parameter %s", name)}
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &Error{Name: ErrTaskFailed, Cause: fmt.Sprintf("parameter %s must be a string", name)}
	}
	return s, nil
}

// bodyText is a Body/Message/Detail parameter as text: strings as they
// are, any other JSON value serialised (the optimised integrations accept
// JSON objects there).
func bodyText(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// serviceError maps a backend error to the error name the AWS SDK
// integration would report ("S3.NoSuchKey", ...).
func serviceError(service string, err error) error {
	name := service + ".SdkClientException"
	switch fault.CodeOf(err) {
	case fault.NotFound:
		if service == "S3" {
			name = "S3.NoSuchKey"
		} else {
			name = service + ".NotFoundException"
		}
	case fault.PreconditionFailed:
		name = service + ".PreconditionFailedException"
	case fault.InvalidArgument:
		name = service + ".InvalidParameterException"
	case fault.Transient:
		name = service + ".ServiceUnavailableException"
	}
	return &Error{Name: name, Cause: err.Error()}
}

func rfc1123(t time.Time) string { return t.UTC().Format(time.RFC1123) }

// callIntegration runs a service integration resource; ok is false when
// the resource is not one the engine implements.
func (x *execution) callIntegration(ctx context.Context, resource string, params any) (out any, ok bool, err error) {
	base, pattern := integrationPattern(resource)
	svc := x.eng.services
	need := func(have bool, what string) error {
		if !have {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("%s: the engine has no %s configured", resource, what)}
		}
		return nil
	}
	switch base {
	case "arn:aws:states:::aws-sdk:s3:putObject", "arn:aws:states:::s3:putObject":
		if err := need(svc.Objects != nil, "object store"); err != nil {
			return nil, true, err
		}
		bucket, err := stringParam(params, "Bucket", true)
		if err != nil {
			return nil, true, err
		}
		key, err := stringParam(params, "Key", true)
		if err != nil {
			return nil, true, err
		}
		body, _ := param(params, "Body")
		text, err := bodyText(body)
		if err != nil {
			return nil, true, err
		}
		ct, _ := stringParam(params, "ContentType", false)
		info, err := svc.Objects.Put(ctx, bucket, key, strings.NewReader(text), &objstore.PutOptions{ContentType: ct})
		if err != nil {
			return nil, true, serviceError("S3", err)
		}
		return map[string]any{"ETag": strconv.Quote(info.ETag)}, true, nil

	case "arn:aws:states:::aws-sdk:s3:getObject", "arn:aws:states:::s3:getObject":
		if err := need(svc.Objects != nil, "object store"); err != nil {
			return nil, true, err
		}
		bucket, err := stringParam(params, "Bucket", true)
		if err != nil {
			return nil, true, err
		}
		key, err := stringParam(params, "Key", true)
		if err != nil {
			return nil, true, err
		}
		rc, info, err := svc.Objects.Get(ctx, bucket, key, nil)
		if err != nil {
			return nil, true, serviceError("S3", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, true, serviceError("S3", err)
		}
		return map[string]any{
			"Body":          string(b),
			"ContentLength": json.Number(strconv.FormatInt(info.Size, 10)),
			"ETag":          strconv.Quote(info.ETag),
			"LastModified":  rfc1123(info.LastModified),
		}, true, nil

	case "arn:aws:states:::aws-sdk:s3:listObjectsV2":
		if err := need(svc.Objects != nil, "object store"); err != nil {
			return nil, true, err
		}
		bucket, err := stringParam(params, "Bucket", true)
		if err != nil {
			return nil, true, err
		}
		prefix, _ := stringParam(params, "Prefix", false)
		token, _ := stringParam(params, "ContinuationToken", false)
		startAfter, _ := stringParam(params, "StartAfter", false)
		maxKeys := 1000
		if v, ok := param(params, "MaxKeys"); ok {
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil && i > 0 {
					maxKeys = int(i)
				}
			}
		}
		page, err := svc.Objects.List(ctx, bucket, objstore.ListOptions{Prefix: prefix, StartAfter: startAfter, ContinuationToken: token, MaxKeys: maxKeys})
		if err != nil {
			return nil, true, serviceError("S3", err)
		}
		return listObjectsV2Result(bucket, prefix, maxKeys, page), true, nil

	case "arn:aws:states:::sns:publish", "arn:aws:states:::aws-sdk:sns:publish":
		if err := need(svc.Notifier != nil, "notifier"); err != nil {
			return nil, true, err
		}
		msg, _ := param(params, "Message")
		text, err := bodyText(msg)
		if err != nil {
			return nil, true, err
		}
		subject, _ := stringParam(params, "Subject", false)
		id, err := svc.Notifier.Publish(ctx, subject, text)
		if err != nil {
			return nil, true, serviceError("SNS", err)
		}
		return map[string]any{"MessageId": id}, true, nil

	case "arn:aws:states:::events:putEvents", "arn:aws:states:::aws-sdk:eventbridge:putEvents":
		if err := need(svc.Bus != nil, "event bus"); err != nil {
			return nil, true, err
		}
		entries, _ := param(params, "Entries")
		list, ok := entries.([]any)
		if !ok {
			return nil, true, &Error{Name: ErrTaskFailed, Cause: "parameter Entries must be an array"}
		}
		var events []bus.Event
		for _, e := range list {
			src, _ := stringParam(e, "Source", false)
			dt, _ := stringParam(e, "DetailType", false)
			d, _ := param(e, "Detail")
			text, err := bodyText(d)
			if err != nil {
				return nil, true, err
			}
			if _, isString := d.(string); isString && !json.Valid([]byte(text)) {
				return nil, true, &Error{Name: "EventBridge.InvalidArgumentException", Cause: "Detail is not valid JSON"}
			}
			ev := bus.Event{Source: src, DetailType: dt, Detail: json.RawMessage(text), Time: x.lane.Now()}
			if rs, ok := param(e, "Resources"); ok {
				if arr, ok := rs.([]any); ok {
					for _, r := range arr {
						if s, ok := r.(string); ok {
							ev.Resources = append(ev.Resources, s)
						}
					}
				}
			}
			events = append(events, ev)
		}
		if err := svc.Bus.Put(ctx, events); err != nil {
			return nil, true, serviceError("EventBridge", err)
		}
		res := make([]any, len(events))
		for i := range events {
			res[i] = map[string]any{"EventId": x.eng.newUUID()}
		}
		return map[string]any{"Entries": res, "FailedEntryCount": json.Number("0")}, true, nil

	case "arn:aws:states:::states:startExecution":
		out, err := x.startChild(ctx, params, pattern)
		return out, true, err
	}
	return nil, false, nil
}

func listObjectsV2Result(bucket, prefix string, maxKeys int, page objstore.ListPage) map[string]any {
	contents := make([]any, 0, len(page.Objects))
	for _, o := range page.Objects {
		contents = append(contents, map[string]any{
			"ETag":         strconv.Quote(o.ETag),
			"Key":          o.Key,
			"LastModified": o.LastModified.UTC().Format(time.RFC3339),
			"Size":         json.Number(strconv.FormatInt(o.Size, 10)),
			"StorageClass": "STANDARD",
		})
	}
	res := map[string]any{
		"Contents":    contents,
		"IsTruncated": page.NextContinuationToken != "",
		"KeyCount":    json.Number(strconv.Itoa(len(contents))),
		"MaxKeys":     json.Number(strconv.Itoa(maxKeys)),
		"Name":        bucket,
		"Prefix":      prefix,
	}
	if page.NextContinuationToken != "" {
		res["NextContinuationToken"] = page.NextContinuationToken
	}
	return res
}

// startChild implements states:startExecution (fire and forget), .sync
// (wait; Output as a JSON string) and .sync:2 (wait; Output as JSON).
func (x *execution) startChild(ctx context.Context, params any, pattern string) (any, error) {
	smArn, err := stringParam(params, "StateMachineArn", true)
	if err != nil {
		return nil, err
	}
	name, _ := stringParam(params, "Name", false)
	inV, hasInput := param(params, "Input")
	input := "{}"
	if hasInput {
		if s, ok := inV.(string); ok {
			input = s
		} else if input, err = bodyText(inV); err != nil {
			return nil, err
		}
	}
	// As on Step Functions Local, a child runs a mock test case only when
	// its ARN asks for one ("...:stateMachine:Child#TestCase").
	run, err := x.eng.StartExecution(ctx, StartInput{StateMachineArn: smArn, Name: name, Input: input})
	if err != nil {
		return nil, &Error{Name: "StepFunctions." + errName(err), Cause: err.Error()}
	}
	if pattern == "" {
		return map[string]any{"ExecutionArn": run.Arn(), "StartDate": run.Execution().StartDate.Format(time.RFC3339Nano)}, nil
	}
	res, err := run.Wait(ctx)
	if err != nil {
		return nil, err
	}
	out := describeValue(res, pattern == ".sync:2")
	if res.Status != StatusSucceeded {
		b, _ := json.Marshal(out)
		return nil, &Error{Name: ErrTaskFailed, Cause: string(b)}
	}
	return out, nil
}

// errName is the exception name of a sentinel store error.
func errName(err error) string {
	for _, s := range []error{ErrExecutionAlreadyExists, ErrExecutionDoesNotExist, ErrStateMachineDoesNotExist, ErrInvalidName, ErrInvalidArn} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "SdkClientException"
}

// describeValue is DescribeExecution as JSON values; with parsed, Input
// and Output are JSON rather than strings (the .sync:2 shape).
func describeValue(x Execution, parsed bool) map[string]any {
	m := map[string]any{
		"ExecutionArn":    x.ExecutionArn,
		"StateMachineArn": x.StateMachineArn,
		"Name":            x.Name,
		"Status":          x.Status,
		"StartDate":       x.StartDate.Format(time.RFC3339Nano),
		"Input":           x.Input,
		"InputDetails":    map[string]any{"Included": true},
	}
	if parsed {
		if v, err := decodeJSON([]byte(x.Input)); err == nil {
			m["Input"] = v
		}
	}
	if x.StopDate != nil {
		m["StopDate"] = x.StopDate.Format(time.RFC3339Nano)
	}
	if x.Output != nil {
		m["Output"] = *x.Output
		m["OutputDetails"] = map[string]any{"Included": true}
		if parsed {
			if v, err := decodeJSON([]byte(*x.Output)); err == nil {
				m["Output"] = v
			}
		}
	}
	if x.Error != "" {
		m["Error"] = x.Error
	}
	if x.Cause != "" {
		m["Cause"] = x.Cause
	}
	return m
}
