package engine

import (
	"context"
	"errors"
	"testing"
)

// The .waitForTaskToken pattern: the task's result is what
// SendTaskSuccess reports for its token, not the handler's return value;
// SendTaskFailure fails it with the reported error.
func TestCallbackTask(t *testing.T) {
	var e *Engine
	reg := NewRegistry()
	reg.Register("approver", func(ctx context.Context, in any) (any, error) {
		m := in.(map[string]any)
		token := m["token"].(string)
		if token != TaskToken(ctx) {
			t.Errorf("token in payload %q, in context %q", token, TaskToken(ctx))
		}
		go func() {
			if m["approve"] == true {
				e.SendTaskHeartbeat(context.Background(), token)
				e.SendTaskSuccess(context.Background(), token, `{"approved":true,"by":"test"}`)
			} else {
				e.SendTaskFailure(context.Background(), token, "Rejected", "not today")
			}
		}()
		return "ignored", nil
	})
	e = New(Options{Tasks: reg})
	m := mustCompile(t, `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"approver","Payload":{"token.$":"$$.Task.Token","approve.$":"$.approve"}},"HeartbeatSeconds":600,
		"Catch":[{"ErrorEquals":["Rejected"],"Next":"No"}],"End":true},"No":{"Type":"Pass","Result":"rejected","End":true}}}`)
	if x := execute(t, e, m, `{"approve":true}`); x.Status != StatusSucceeded || *x.Output != `{"approved":true,"by":"test"}` {
		t.Fatalf("approve: %+v", x)
	}
	if x := execute(t, e, m, `{"approve":false}`); x.Status != StatusSucceeded || *x.Output != `"rejected"` {
		t.Fatalf("reject: %+v", x)
	}
	if err := e.SendTaskSuccess(context.Background(), "nope", `{}`); !errors.Is(err, ErrTaskDoesNotExist) {
		t.Fatalf("unknown token: %v", err)
	}
}
