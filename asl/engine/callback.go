package engine

import (
	"context"
	"errors"
	"fmt"
)

// Callback tasks (the .waitForTaskToken integration pattern): the engine
// invokes the resource with $$.Task.Token available, ignores its direct
// result, and waits until someone reports the outcome with
// SendTaskSuccess or SendTaskFailure (SendTaskHeartbeat keeps a task with
// HeartbeatSeconds alive). On the virtual clock no time passes while a
// task waits for its callback.

// ErrTaskDoesNotExist reports a task token that is unknown or already used
// (the API's TaskDoesNotExist / InvalidToken).
var ErrTaskDoesNotExist = errors.New("TaskDoesNotExist")

type taskTokenKey struct{}

// TaskToken is the task token of the callback task a handler runs for
// ("" outside one); the handler hands it to whoever will call
// SendTaskSuccess.
func TaskToken(ctx context.Context) string {
	s, _ := ctx.Value(taskTokenKey{}).(string)
	return s
}

type callbackResult struct {
	out any
	err *Error
}

type callback struct {
	done chan callbackResult // buffered 1; the first report wins
	hb   *heartbeat
}

func (x *execution) invokeCallback(ctx context.Context, st *state, params any) (any, error) {
	token := TaskToken(ctx)
	if token == "" {
		return nil, &Error{Name: ErrRuntime, Cause: "callback task without a task token"}
	}
	cb := &callback{done: make(chan callbackResult, 1)}
	cb.hb, _ = ctx.Value(heartbeatKey{}).(*heartbeat)
	e := x.eng
	e.mu.Lock()
	e.tokens[token] = cb
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.tokens, token)
		e.mu.Unlock()
	}()
	if _, err := x.call(ctx, st, params); err != nil {
		return nil, err
	}
	select {
	case r := <-cb.done:
		if r.err != nil {
			return nil, r.err
		}
		return r.out, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (e *Engine) callback(token string) (*callback, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cb, ok := e.tokens[token]
	if !ok {
		return nil, fmt.Errorf("%w: task token %q", ErrTaskDoesNotExist, token)
	}
	return cb, nil
}

func (e *Engine) report(token string, r callbackResult) error {
	cb, err := e.callback(token)
	if err != nil {
		return err
	}
	select {
	case cb.done <- r:
		return nil
	default:
		return fmt.Errorf("%w: task token %q was already reported", ErrTaskDoesNotExist, token)
	}
}

// SendTaskSuccess completes a callback task with output (JSON text).
func (e *Engine) SendTaskSuccess(ctx context.Context, token, output string) error {
	v, err := decodeJSON([]byte(output))
	if err != nil {
		return fmt.Errorf("%w: output: %v", ErrInvalidExecutionInput, err)
	}
	return e.report(token, callbackResult{out: v})
}

// SendTaskFailure fails a callback task with an error name and cause.
func (e *Engine) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	return e.report(token, callbackResult{err: &Error{Name: errName, Cause: cause}})
}

// SendTaskHeartbeat restarts a callback task's HeartbeatSeconds window.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, token string) error {
	cb, err := e.callback(token)
	if err != nil {
		return err
	}
	if cb.hb != nil {
		Heartbeat(context.WithValue(ctx, heartbeatKey{}, cb.hb))
	}
	return nil
}
