package lambdaentry

import (
	"context"

	"github.com/serverless-elt/elt/tasks/validateinput"
)

// The workflow tasks: one factory per task name (= Lambda handler name =
// the ${<task>_function_arn} placeholder of workflows/*.asl.json). Each
// reads and checks its variables at cold start, builds the task from the
// AWS adapters and serves the Payload its lambda:invoke state sends.

// ValidateInput serves validate_input (tasks/validateinput): the workflow
// input against an embedded JSON Schema. It needs no AWS access and no
// variables.
func ValidateInput(ctx context.Context, rt *Runtime) (Handler, error) {
	t, err := validateinput.New(validateinput.Deps{Log: rt.Log}, validateinput.Config{})
	if err != nil {
		return nil, err
	}
	return task("validate_input", rt.Log, t.Handle), nil
}
