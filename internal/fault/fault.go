// Package fault classifies errors from any backend into a small set of codes
// that the portable layers and the tasks branch on (the go-cloud gcerrors idea):
// drivers map their native errors (os.ErrNotExist, S3 NoSuchKey,
// PreconditionFailed, DynamoDB ConditionalCheckFailedException, ...) to a Code,
// so callers never parse error messages.
package fault

import (
	"context"
	"errors"
	"fmt"
)

// Code is the class of an error.
type Code int

const (
	// Unknown is any error that was not classified.
	Unknown Code = iota
	// NotFound: the object, message, claim or partition does not exist.
	NotFound
	// PreconditionFailed: a conditional operation's condition did not hold
	// (ETag mismatch, claim already held, execution name already used).
	PreconditionFailed
	// AlreadyExists: a create-only operation found the thing already there.
	AlreadyExists
	// InvalidArgument: the caller passed something the backend refuses.
	InvalidArgument
	// Transient: throttling, timeouts, 5xx, a lost connection; retrying may succeed.
	Transient
	// Canceled: the context was cancelled or its deadline passed.
	Canceled
)

func (c Code) String() string {
	switch c {
	case NotFound:
		return "NotFound"
	case PreconditionFailed:
		return "PreconditionFailed"
	case AlreadyExists:
		return "AlreadyExists"
	case InvalidArgument:
		return "InvalidArgument"
	case Transient:
		return "Transient"
	case Canceled:
		return "Canceled"
	default:
		return "Unknown"
	}
}

// Error is an error with a Code. Drivers return it; callers use CodeOf.
type Error struct {
	Code Code
	Op   string // what was being done, e.g. "objstore.Get bronze/a.jsonl"
	Err  error  // the underlying (native) error, may be nil
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %s", e.Op, e.Code)
	}
	return fmt.Sprintf("%s: %s: %v", e.Op, e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// New wraps err with a code and the operation that failed.
func New(code Code, op string, err error) error {
	return &Error{Code: code, Op: op, Err: err}
}

// CodeOf returns the code of the first *Error in err's chain; context
// cancellation is reported as Canceled, anything else as Unknown.
func CodeOf(err error) Code {
	if err == nil {
		return Unknown
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	return Unknown
}

// Is reports whether err carries code c.
func Is(err error, c Code) bool { return err != nil && CodeOf(err) == c }
