package engine

import (
	"context"
	"os"
	"testing"

	"github.com/serverless-elt/elt/asl/engine/mockconfig"
)

// The developer guide's mock configuration example, run against its
// LambdaSQSIntegration state machine ("Using mocked service integrations
// for testing in Step Functions Local").
func TestAWSMockConfigurationExample(t *testing.T) {
	cfg, err := mockconfig.Load("testdata/aws-mock-config.json")
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile("testdata/aws-lambda-sqs.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m := mustCompile(t, string(def))
	e := New(Options{Mocks: cfg})
	cases := []struct {
		testCase, status, output, errName string
		seconds                           float64
		lambdaAttempts                    int
	}{
		{"HappyPath", StatusSucceeded, `{"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}`, "", 0, 1},
		// Invocations 0, 1 and 2 throw; the retrier (2 s, x2, 3 attempts)
		// waits 2 + 4 + 8 s and invocation 3 returns.
		{"RetryPath", StatusSucceeded, `{"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}`, "", 14, 4},
		// SQSState is not mocked and no SQS integration is bound.
		{"HybridPath", StatusFailed, "", ErrRuntime, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.testCase, func(t *testing.T) {
			x, err := e.Execute(context.Background(), StartInput{Machine: m, StateMachineName: "LambdaSQSIntegration", Name: c.testCase, TestCase: c.testCase})
			if err != nil {
				t.Fatal(err)
			}
			if x.Status != c.status || (c.output != "" && *x.Output != c.output) || x.Error != c.errName {
				t.Fatalf("%s %v %s %s", x.Status, x.Output, x.Error, x.Cause)
			}
			if got := x.StopDate.Sub(x.StartDate).Seconds(); got != c.seconds {
				t.Errorf("took %v s, want %v", got, c.seconds)
			}
			n := 0
			for _, ty := range eventTypes(t, e, x.ExecutionArn) {
				if ty == "TaskScheduled" {
					n++
				}
			}
			if want := c.lambdaAttempts + 1; n != want { // and one SQSState
				t.Errorf("%d TaskScheduled events, want %d", n, want)
			}
		})
	}
	// The "#TestCase" suffix on a state machine ARN selects the test case,
	// as StartExecution does on Step Functions Local.
	if err := e.Store().PutStateMachine(context.Background(), StateMachineRecord{StateMachineArn: StateMachineArn("LambdaSQSIntegration"), Name: "LambdaSQSIntegration", Definition: string(def)}); err != nil {
		t.Fatal(err)
	}
	run, err := e.StartExecution(context.Background(), StartInput{StateMachineArn: StateMachineArn("LambdaSQSIntegration") + "#HappyPath"})
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := run.Wait(context.Background()); x.Status != StatusSucceeded {
		t.Fatalf("#HappyPath: %+v", x)
	}
}
