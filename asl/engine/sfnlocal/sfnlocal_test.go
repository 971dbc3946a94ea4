package sfnlocal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/serverless-elt/elt/asl/engine"
)

func newClient(t *testing.T, e *engine.Engine) *sfn.Client {
	t.Helper()
	srv := httptest.NewServer(&Server{Engine: e})
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", srv.URL)
	}
	return Client(srv.URL)
}

const definition = `{"Comment":"round trip","StartAt":"Wait","States":{
  "Wait":{"Type":"Wait","Seconds":30,"Next":"Greet"},
  "Greet":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"greet","Payload.$":"$"},"OutputPath":"$.Payload","Next":"Route"},
  "Route":{"Type":"Choice","Choices":[{"Variable":"$.block","BooleanEquals":true,"Next":"Block"}],"Default":"Done"},
  "Block":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:block","End":true},
  "Done":{"Type":"Succeed"}}}`

// The aws-sdk-go-v2 sfn client against the local endpoint: register a
// definition, start, describe, list, read history, refuse a duplicate
// name, stop a running execution.
func TestSDKRoundTrip(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register("greet", func(ctx context.Context, in any) (any, error) {
		m := in.(map[string]any)
		m["greeting"] = "hello " + m["who"].(string)
		return m, nil
	})
	blocked := make(chan struct{}, 1)
	reg.Register("arn:aws:states:us-east-1:000000000000:activity:block", func(ctx context.Context, in any) (any, error) {
		blocked <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	e := engine.New(engine.Options{Tasks: reg, Store: &engine.FileStore{Dir: t.TempDir()}})
	c := newClient(t, e)
	ctx := context.Background()

	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("greeter"), Definition: aws.String(definition), RoleArn: aws.String("arn:aws:iam::000000000000:role/local")})
	if err != nil {
		t.Fatal(err)
	}
	smArn := aws.ToString(created.StateMachineArn)
	if smArn != engine.StateMachineArn("greeter") {
		t.Fatalf("arn %s", smArn)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("broken"), Definition: aws.String(`{"StartAt":"Nope","States":{}}`), RoleArn: aws.String("r")})
	var invalid *types.InvalidDefinition
	if !errors.As(err, &invalid) {
		t.Fatalf("invalid definition accepted: %v", err)
	}

	desc, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smArn)})
	if err != nil || aws.ToString(desc.Definition) != definition || desc.Status != types.StateMachineStatusActive {
		t.Fatalf("describe state machine: %v %+v", err, desc)
	}
	list, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(list.StateMachines) != 1 || aws.ToString(list.StateMachines[0].Name) != "greeter" {
		t.Fatalf("list state machines: %v %+v", err, list)
	}

	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn), Name: aws.String("first"), Input: aws.String(`{"who":"sdk","block":false}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.WaitExecution(ctx, aws.ToString(start.ExecutionArn)); err != nil {
		t.Fatal(err)
	}
	x, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != types.ExecutionStatusSucceeded || aws.ToString(x.Output) != `{"block":false,"greeting":"hello sdk","who":"sdk"}` {
		t.Fatalf("describe execution: %s %s %s %s", x.Status, aws.ToString(x.Output), aws.ToString(x.Error), aws.ToString(x.Cause))
	}
	if x.StopDate.Sub(*x.StartDate).Seconds() != 30 {
		t.Errorf("virtual wait of 30 s took %v", x.StopDate.Sub(*x.StartDate))
	}

	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn), Name: aws.String("first"), Input: aws.String(`{}`)})
	var exists *types.ExecutionAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate name: %v", err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(engine.StateMachineArn("nope"))})
	var noSM *types.StateMachineDoesNotExist
	if !errors.As(err, &noSM) {
		t.Fatalf("missing state machine: %v", err)
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(engine.ExecutionArn("greeter", "nope"))})
	var noX *types.ExecutionDoesNotExist
	if !errors.As(err, &noX) {
		t.Fatalf("missing execution: %v", err)
	}

	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var typesSeen []string
	for _, ev := range hist.Events {
		typesSeen = append(typesSeen, string(ev.Type))
	}
	want := "ExecutionStarted WaitStateEntered WaitStateExited TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited ChoiceStateEntered ChoiceStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if strings.Join(typesSeen, " ") != want {
		t.Fatalf("history %v", typesSeen)
	}
	ev := hist.Events[4]
	if ev.TaskScheduledEventDetails == nil || aws.ToString(ev.TaskScheduledEventDetails.ResourceType) != "lambda" || aws.ToString(ev.TaskScheduledEventDetails.Resource) != "invoke" || ev.PreviousEventId != 4 || ev.Id != 5 {
		t.Fatalf("TaskScheduled event %+v", ev)
	}
	if hist.Events[1].StateEnteredEventDetails == nil || aws.ToString(hist.Events[1].StateEnteredEventDetails.Name) != "Wait" {
		t.Fatalf("StateEntered details %+v", hist.Events[1])
	}
	paged, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, MaxResults: 5, ReverseOrder: true})
	if err != nil || len(paged.Events) != 5 || paged.Events[0].Type != types.HistoryEventTypeExecutionSucceeded || paged.NextToken == nil {
		t.Fatalf("paged history: %v %+v", err, paged)
	}

	// Stop a running execution.
	run, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn), Name: aws.String("second"), Input: aws.String(`{"who":"x","block":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-blocked
	running, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smArn), StatusFilter: types.ExecutionStatusRunning})
	if err != nil || len(running.Executions) != 1 || aws.ToString(running.Executions[0].Name) != "second" {
		t.Fatalf("list running: %v %+v", err, running)
	}
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: run.ExecutionArn, Error: aws.String("Stopped"), Cause: aws.String("by the test")}); err != nil {
		t.Fatal(err)
	}
	x, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: run.ExecutionArn})
	if err != nil || x.Status != types.ExecutionStatusAborted || aws.ToString(x.Error) != "Stopped" {
		t.Fatalf("after stop: %v %+v", err, x)
	}
	all, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smArn)})
	if err != nil || len(all.Executions) != 2 {
		t.Fatalf("list all: %v %+v", err, all)
	}
}

func TestProtocolErrors(t *testing.T) {
	s := &Server{Engine: engine.New(engine.Options{})}
	for _, c := range []struct {
		target, body, code string
	}{
		{"", `{}`, "UnknownOperationException"},
		{"AWSStepFunctions.DeleteActivity", `{}`, "UnknownOperationException"},
		{"AWSStepFunctions.StartExecution", `{nope`, "SerializationException"},
		{"AWSStepFunctions.DescribeExecution", `{"executionArn":"not-an-arn"}`, "InvalidArn"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		req.Header.Set("X-Amz-Target", c.target)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"__type":"`+c.code+`"`) {
			t.Errorf("%s %s: %d %s", c.target, c.body, w.Code, w.Body.String())
		}
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	if _, err := Listen("0.0.0.0:0"); err == nil {
		t.Fatal("bound to all interfaces")
	}
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// A callback task completed through the SDK's SendTaskSuccess.
func TestSDKCallback(t *testing.T) {
	tokens := make(chan string, 1)
	reg := engine.NewRegistry()
	reg.Register("notify-approver", func(ctx context.Context, in any) (any, error) {
		tokens <- engine.TaskToken(ctx)
		return nil, nil
	})
	e := engine.New(engine.Options{Tasks: reg})
	c := newClient(t, e)
	ctx := context.Background()
	def := `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"notify-approver","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}`
	if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("approval"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/local")}); err != nil {
		t.Fatal(err)
	}
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(engine.StateMachineArn("approval"))})
	if err != nil {
		t.Fatal(err)
	}
	token := <-tokens
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	x, err := e.WaitExecution(ctx, aws.ToString(start.ExecutionArn))
	if err != nil || x.Status != engine.StatusSucceeded || *x.Output != `{"ok":true}` {
		t.Fatalf("%v %+v", err, x)
	}
	_, err = c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("E")})
	var gone *types.TaskDoesNotExist
	if !errors.As(err, &gone) {
		t.Fatalf("used token: %v", err)
	}
}
