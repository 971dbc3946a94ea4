package compact

import (
	"fmt"

	"github.com/serverless-elt/elt/internal/fault"
)

// Error names the compaction tasks raise (the ASL error names Retry and
// Catch match). Only ErrStoreUnavailable is worth retrying; the others need
// a person or a new input.
const (
	// ErrInvalidInput: the input is malformed (unknown record type, bad dt,
	// run id, prefix or partition list).
	ErrInvalidInput = "Compact.InvalidInput"
	// ErrStoreUnavailable: the object store or the catalog failed (I/O,
	// throttling, a timeout); a retry with the same input is safe.
	ErrStoreUnavailable = "Compact.StoreUnavailable"
	// ErrInputChanged: an input file changed or vanished while it was read
	// (a transform rewrote it); the next run sees the new state.
	ErrInputChanged = "Compact.InputChanged"
	// ErrCorruptInput: an input is not a silver Parquet file of the record
	// type (unreadable, or a schema that cannot be converted).
	ErrCorruptInput = "Compact.CorruptInput"
	// ErrVerifyFailed: an output read back does not match what was written;
	// the catalog was not switched.
	ErrVerifyFailed = "Compact.VerifyFailed"
)

// Error is a compaction task failure with its ASL error name.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string     { return e.Err.Error() }
func (e *Error) Unwrap() error     { return e.Err }
func (e *Error) ErrorName() string { return e.Name }
func errorf(name, format string, args ...any) error {
	return &Error{Name: name, Err: fmt.Errorf(format, args...)}
}

// storeError classifies an object store or catalog failure: a missing or
// changed object is ErrInputChanged, an argument the backend refuses is
// ErrInvalidInput, anything else (I/O, throttling, timeouts, unknown) is
// ErrStoreUnavailable.
func storeError(op string, err error) error {
	name := ErrStoreUnavailable
	switch fault.CodeOf(err) {
	case fault.NotFound, fault.PreconditionFailed:
		name = ErrInputChanged
	case fault.InvalidArgument:
		name = ErrInvalidInput
	}
	return &Error{Name: name, Err: fmt.Errorf("%s: %w", op, err)}
}

// backendError is storeError for calls where NotFound is not about an
// input (catalog, manifest and listing calls).
func backendError(op string, err error) error {
	if fault.CodeOf(err) == fault.InvalidArgument {
		return &Error{Name: ErrInvalidInput, Err: fmt.Errorf("%s: %w", op, err)}
	}
	return &Error{Name: ErrStoreUnavailable, Err: fmt.Errorf("%s: %w", op, err)}
}
