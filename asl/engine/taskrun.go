package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// resourceParts splits a resource into the resourceType and resource of
// the Task* history events: "arn:aws:states:::lambda:invoke" is
// ("lambda", "invoke"), "arn:aws:states:::aws-sdk:s3:putObject" is
// ("aws-sdk:s3", "putObject").
func resourceParts(resource string) (string, string) {
	rest, ok := strings.CutPrefix(resource, "arn:aws:states:::")
	if !ok {
		return "", resource
	}
	i := strings.LastIndexByte(rest, ':')
	if strings.HasSuffix(rest, ".sync:2") {
		i = strings.LastIndexByte(strings.TrimSuffix(rest, ".sync:2"), ':')
	}
	if i < 0 {
		return rest, ""
	}
	return rest[:i], rest[i+1:]
}

type heartbeat struct {
	mu     sync.Mutex
	lane   Lane
	every  time.Duration
	remove func()
	timer  *time.Timer // real clock only: fires the HeartbeatTimeout
}

type heartbeatKey struct{}

// Heartbeat tells the engine a long task is alive (SendTaskHeartbeat):
// the task's HeartbeatSeconds window starts again. Outside a task with
// HeartbeatSeconds it does nothing.
func Heartbeat(ctx context.Context) {
	hb, ok := ctx.Value(heartbeatKey{}).(*heartbeat)
	if !ok {
		return
	}
	hb.mu.Lock()
	defer hb.mu.Unlock()
	hb.remove()
	hb.remove = hb.lane.WithDeadline(hb.lane.Now().Add(hb.every), ErrHeartbeatTimeout)
	if hb.timer != nil {
		hb.timer.Reset(hb.every)
	}
}

func (x *execution) secondsField(v float64, p *optionalPath, input any, field string) (time.Duration, error) {
	if p != nil {
		val, err := p.eval(input)
		if err != nil {
			return 0, err
		}
		r, ok := toRat(val)
		if !ok || r.Sign() <= 0 {
			return 0, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("%s must reference a positive integer", field)}
		}
		v, _ = r.Float64()
	}
	return time.Duration(v * float64(time.Second)), nil
}

// runTask invokes a Task state's resource with its effective input,
// recording the Task* (or LambdaFunction*) events.
func (x *execution) runTask(ctx context.Context, th *thread, st *state, params, stateInput any) (any, error) {
	timeout, err := x.secondsField(st.timeoutSeconds, (*optionalPath)(st.timeoutPath), stateInput, "TimeoutSecondsPath")
	if err != nil {
		return nil, err
	}
	hbEvery, err := x.secondsField(st.heartbeatSeconds, (*optionalPath)(st.heartbeatPath), stateInput, "HeartbeatSecondsPath")
	if err != nil {
		return nil, err
	}
	legacyLambda := strings.HasPrefix(st.resource, "arn:aws:lambda:")
	rtype, res := resourceParts(st.resource)
	base := map[string]any{"resourceType": rtype, "resource": res}
	with := func(kv ...any) map[string]any {
		m := make(map[string]any, len(base)+len(kv)/2)
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	paramText := jsonText(params)
	if legacyLambda {
		d := map[string]any{"resource": st.resource, "input": paramText, "inputDetails": notTruncated}
		if timeout > 0 {
			d["timeoutInSeconds"] = int64(timeout / time.Second)
		}
		x.event(th, "LambdaFunctionScheduled", d)
		x.event(th, "LambdaFunctionStarted", nil)
	} else {
		d := with("region", DefaultRegion, "parameters", paramText)
		if timeout > 0 {
			d["timeoutInSeconds"] = int64(timeout / time.Second)
		}
		if hbEvery > 0 {
			d["heartbeatInSeconds"] = int64(hbEvery / time.Second)
		}
		x.event(th, "TaskScheduled", d)
		x.event(th, "TaskStarted", with())
	}

	out, err := x.invokeWithTimers(ctx, th, st, params, timeout, hbEvery)
	if err == nil {
		text := jsonText(out)
		if err = x.checkSize(text, "task result"); err == nil {
			if legacyLambda {
				x.event(th, "LambdaFunctionSucceeded", map[string]any{"output": text, "outputDetails": notTruncated})
			} else {
				x.event(th, "TaskSucceeded", with("output", text, "outputDetails", notTruncated))
			}
			return out, nil
		}
	}
	var ae *Error
	if !errors.As(err, &ae) {
		return nil, err
	}
	timedOut := ae.Name == ErrTimeout || ae.Name == ErrHeartbeatTimeout
	switch {
	case legacyLambda && timedOut:
		x.event(th, "LambdaFunctionTimedOut", map[string]any{"error": ae.Name, "cause": ae.Cause})
	case legacyLambda:
		x.event(th, "LambdaFunctionFailed", map[string]any{"error": ae.Name, "cause": ae.Cause})
	case timedOut:
		x.event(th, "TaskTimedOut", with("error", ae.Name, "cause", ae.Cause))
	default:
		x.event(th, "TaskFailed", with("error", ae.Name, "cause", ae.Cause))
	}
	return nil, ae
}

// invokeWithTimers runs the resource under the task's TimeoutSeconds and
// HeartbeatSeconds, measured on the execution's clock.
func (x *execution) invokeWithTimers(ctx context.Context, th *thread, st *state, params any, timeout, hbEvery time.Duration) (any, error) {
	hctx := withLane(ctx, th.lane)
	if timeout > 0 {
		remove := th.lane.WithDeadline(th.lane.Now().Add(timeout), ErrTimeout)
		defer remove()
		if !th.lane.Virtual() {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeoutCause(hctx, timeout, &DeadlineError{Name: ErrTimeout})
			defer cancel()
		}
	}
	if hbEvery > 0 {
		hb := &heartbeat{lane: th.lane, every: hbEvery}
		hb.remove = th.lane.WithDeadline(th.lane.Now().Add(hbEvery), ErrHeartbeatTimeout)
		if !th.lane.Virtual() {
			var cancel context.CancelCauseFunc
			hctx, cancel = context.WithCancelCause(hctx)
			defer cancel(nil)
			hb.timer = time.AfterFunc(hbEvery, func() { cancel(&DeadlineError{Name: ErrHeartbeatTimeout}) })
		}
		defer func() {
			hb.mu.Lock()
			hb.remove()
			if hb.timer != nil {
				hb.timer.Stop()
			}
			hb.mu.Unlock()
		}()
		hctx = context.WithValue(hctx, heartbeatKey{}, hb)
	}
	var out any
	var err error
	if th.lane.Virtual() {
		out, err = x.invoke(hctx, st, params)
	} else {
		// A handler that ignores its context must not hold the state past
		// its timeout: run it aside and stop waiting when the context ends.
		type result struct {
			out any
			err error
		}
		ch := make(chan result, 1)
		go func() {
			o, e := x.invoke(hctx, st, params)
			ch <- result{o, e}
		}()
		select {
		case r := <-ch:
			out, err = r.out, r.err
		case <-hctx.Done():
			err = context.Cause(hctx)
		}
	}
	if err == nil {
		return out, nil
	}
	var dl *DeadlineError
	if errors.As(err, &dl) {
		if dl.Name == errExecutionTimeoutDeadline {
			return nil, dl
		}
		return nil, &Error{Name: dl.Name, Cause: fmt.Sprintf("Task '%s' did not complete within its %s window.", st.name, map[string]string{ErrTimeout: "TimeoutSeconds", ErrHeartbeatTimeout: "HeartbeatSeconds"}[dl.Name])}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, err
}

// invoke runs a Task's resource; for the .waitForTaskToken pattern the
// result is what SendTaskSuccess later reports for the task token.
func (x *execution) invoke(ctx context.Context, st *state, params any) (any, error) {
	if _, ok := x.mocks[st.name]; !ok {
		if _, pattern := integrationPattern(st.resource); pattern == ".waitForTaskToken" {
			return x.invokeCallback(ctx, st, params)
		}
	}
	return x.call(ctx, st, params)
}

// call produces a Task's result: a mocked response when the test case
// mocks this state (mocked callback tasks return at once, as on Step
// Functions Local), else the registered handler or the built-in service
// integration.
func (x *execution) call(ctx context.Context, st *state, params any) (any, error) {
	if name, ok := x.mocks[st.name]; ok {
		i := x.mocked.next(st.name)
		out, err := x.eng.mocks.Response(name, i)
		if err != nil {
			return nil, &Error{Name: ErrRuntime, Cause: err.Error()}
		}
		if out.Throw != nil {
			return nil, &Error{Name: out.Throw.Error, Cause: out.Throw.Cause}
		}
		return out.Return, nil
	}
	reg := x.eng.tasks
	base, _ := integrationPattern(st.resource)
	if base == resLambdaInvoke {
		fn, err := stringParam(params, "FunctionName", true)
		if err != nil {
			return nil, err
		}
		h, ok := reg.lookupFunction(fn)
		if !ok {
			return nil, &Error{Name: "Lambda.ResourceNotFoundException", Cause: fmt.Sprintf("Function not found: %s (no handler registered)", fn)}
		}
		payloadV, _ := param(params, "Payload")
		out, err := callHandler(ctx, h, payloadV)
		if err != nil {
			return nil, lambdaError(err)
		}
		return lambdaInvokeResult(out), nil
	}
	if strings.HasPrefix(st.resource, "arn:aws:lambda:") {
		h, ok := reg.lookupFunction(st.resource)
		if !ok {
			return nil, &Error{Name: "Lambda.ResourceNotFoundException", Cause: fmt.Sprintf("Function not found: %s (no handler registered)", st.resource)}
		}
		out, err := callHandler(ctx, h, params)
		if err != nil {
			return nil, lambdaError(err)
		}
		return out, nil
	}
	h, ok := reg.get(st.resource)
	if !ok {
		h, ok = reg.get(base)
	}
	if ok {
		out, err := callHandler(ctx, h, params)
		if err != nil {
			return nil, taskError(err)
		}
		return out, nil
	}
	if out, ok, err := x.callIntegration(ctx, st.resource, params); ok {
		return out, err
	}
	return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("no handler is registered for resource %s and it is not a supported service integration", st.resource)}
}

func callHandler(ctx context.Context, h Handler, input any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Name: "Panic", Cause: fmt.Sprint(r)}
		}
	}()
	out, err = h(ctx, input)
	if err != nil {
		return nil, err
	}
	return toJSONValue(out)
}

// passThrough reports errors the engine itself must see unchanged.
func passThrough(err error) bool {
	var dl *DeadlineError
	return errors.As(err, &dl) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func lambdaError(err error) error {
	if passThrough(err) {
		return err
	}
	return asError(err, true)
}

func taskError(err error) error {
	if passThrough(err) {
		return err
	}
	return asError(err, false)
}
