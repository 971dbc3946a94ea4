package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Error names the States Language defines. See "Handling errors in Step
// Functions workflows" in the AWS developer guide.
const (
	ErrAll                      = "States.ALL"
	ErrTaskFailed               = "States.TaskFailed"
	ErrTimeout                  = "States.Timeout"
	ErrHeartbeatTimeout         = "States.HeartbeatTimeout"
	ErrRuntime                  = "States.Runtime"
	ErrDataLimitExceeded        = "States.DataLimitExceeded"
	ErrBranchFailed             = "States.BranchFailed"
	ErrNoChoiceMatched          = "States.NoChoiceMatched"
	ErrParameterPathFailure     = "States.ParameterPathFailure"
	ErrResultPathMatchFailure   = "States.ResultPathMatchFailure"
	ErrIntrinsicFailure         = "States.IntrinsicFailure"
	ErrPermissions              = "States.Permissions"
	ErrExceedToleratedFailure   = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed         = "States.ItemReaderFailed"
	ErrResultWriterFailed       = "States.ResultWriterFailed"
	ErrQueryEvaluationError     = "States.QueryEvaluationError"
	errExecutionTimeoutDeadline = "elt.ExecutionTimeout" // lane deadline marker, never surfaces
)

// Error is a failure as Step Functions reports it: an error name that Retry
// and Catch match, and a human cause. Task handlers return it (or any error
// with an ErrorName method) to choose the ASL error name.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// ErrorName is the ASL error name.
func (e *Error) ErrorName() string { return e.Name }

// ErrorCause is the cause reported with it.
func (e *Error) ErrorCause() string { return e.Cause }

// Errorf builds an *Error with a formatted cause.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// ErrorNamer is implemented by task errors that choose their ASL error name.
type ErrorNamer interface{ ErrorName() string }

// ErrorCauser is implemented by task errors that choose their cause text.
type ErrorCauser interface{ ErrorCause() string }

// asError turns a handler's error into an ASL error. An error that names
// itself (ErrorNamer, anywhere in the chain) keeps its name; otherwise the
// name is the Go type name of the error, the rule aws-lambda-go applies
// (lambda/errors.go: the pointed-to type's name, "errorString" for
// errors.New). When lambdaShape is set the cause is the Lambda error
// payload {"errorMessage","errorType"} as Step Functions shows it for a
// failed Lambda invocation.
func asError(err error, lambdaShape bool) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	name := ""
	var en ErrorNamer
	if errors.As(err, &en) {
		name = en.ErrorName()
	}
	if name == "" {
		name = goTypeName(err)
	}
	cause := err.Error()
	var ec ErrorCauser
	if errors.As(err, &ec) {
		cause = ec.ErrorCause()
	}
	if lambdaShape {
		b, _ := json.Marshal(struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}{cause, name})
		cause = string(b)
	}
	return &Error{Name: name, Cause: cause}
}

func goTypeName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// terminal errors cannot be caught by States.ALL (nor retried by it).
func terminal(name string) bool {
	return name == ErrRuntime || name == ErrDataLimitExceeded
}

// matches reports whether an ErrorEquals list matches an error name:
//   - States.ALL matches every error except the terminal States.Runtime and
//     States.DataLimitExceeded (which only an explicit name matches);
//   - States.TaskFailed "acts as a wildcard that matches any known error
//     name except for States.Timeout";
//   - any other entry matches its exact (case-sensitive) name.
func matches(errorEquals []string, name string) bool {
	for _, e := range errorEquals {
		switch {
		case e == name:
			return true
		case e == ErrAll && !terminal(name):
			return true
		case e == ErrTaskFailed && name != ErrTimeout && !terminal(name):
			return true
		}
	}
	return false
}
