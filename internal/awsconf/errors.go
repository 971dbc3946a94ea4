package awsconf

import (
	"context"
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/serverless-elt/elt/internal/fault"
)

// Codes maps service error codes that mean the same thing across services to
// fault codes. Adapters pass their own extra codes to Classify.
var commonCodes = map[string]fault.Code{
	"NoSuchKey":                 fault.NotFound,
	"NoSuchBucket":              fault.NotFound,
	"NotFound":                  fault.NotFound,
	"ResourceNotFoundException": fault.NotFound,
	"EntityNotFoundException":   fault.NotFound,
	"AWS.SimpleQueueService.NonExistentQueue":             fault.NotFound,
	"QueueDoesNotExist":                                   fault.NotFound,
	"PreconditionFailed":                                  fault.PreconditionFailed,
	"ConditionalCheckFailedException":                     fault.PreconditionFailed,
	"AlreadyExistsException":                              fault.AlreadyExists,
	"ExecutionAlreadyExists":                              fault.AlreadyExists,
	"InvalidRange":                                        fault.InvalidArgument,
	"InvalidParameterValue":                               fault.InvalidArgument,
	"InvalidParameterException":                           fault.InvalidArgument,
	"InvalidInputException":                               fault.InvalidArgument,
	"ValidationException":                                 fault.InvalidArgument,
	"InvalidArgument":                                     fault.InvalidArgument,
	"EmptyBatchRequest":                                   fault.InvalidArgument,
	"TooManyEntriesInBatchRequest":                        fault.InvalidArgument,
	"BatchEntryIdsNotDistinct":                            fault.InvalidArgument,
	"AWS.SimpleQueueService.TooManyEntriesInBatchRequest": fault.InvalidArgument,
	"AWS.SimpleQueueService.BatchEntryIdsNotDistinct":     fault.InvalidArgument,
	"AWS.SimpleQueueService.EmptyBatchRequest":            fault.InvalidArgument,
	"ReceiptHandleIsInvalid":                              fault.NotFound,
	"InvalidReceiptHandle":                                fault.NotFound,
	"MessageNotInflight":                                  fault.PreconditionFailed,
	"AWS.SimpleQueueService.MessageNotInflight":           fault.PreconditionFailed,
	"ThrottlingException":                                 fault.Transient,
	"Throttling":                                          fault.Transient,
	"SlowDown":                                            fault.Transient,
	"RequestLimitExceeded":                                fault.Transient,
	"ProvisionedThroughputExceededException":              fault.Transient,
	"InternalError":                                       fault.Transient,
	"InternalFailure":                                     fault.Transient,
	"ServiceUnavailable":                                  fault.Transient,
}

// Classify wraps err from an SDK call as a fault.Error with the operation
// name, choosing the code from the service error code (extra first, then the
// common table), then the HTTP status. Nil stays nil.
func Classify(op string, err error, extra map[string]fault.Code) error {
	if err == nil {
		return nil
	}
	return fault.New(CodeOf(err, extra), op, err)
}

// CodeOf is the fault code Classify would choose.
func CodeOf(err error, extra map[string]fault.Code) fault.Code {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fault.Canceled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if c, ok := extra[ae.ErrorCode()]; ok {
			return c
		}
		if c, ok := commonCodes[ae.ErrorCode()]; ok {
			return c
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch s := re.HTTPStatusCode(); {
		case s == 404:
			return fault.NotFound
		case s == 412:
			return fault.PreconditionFailed
		case s == 416:
			return fault.InvalidArgument
		case s == 409:
			return fault.AlreadyExists
		case s == 429 || s >= 500:
			return fault.Transient
		case s == 400:
			return fault.InvalidArgument
		}
	}
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		return fault.Transient
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fault.Transient
	}
	return fault.Unknown
}
