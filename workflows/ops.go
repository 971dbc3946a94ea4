package workflows

import (
	"github.com/invopop/jsonschema"

	"github.com/serverless-elt/elt/asl"
)

// OpsName is the state machine name of the ops replay-and-quality workflow.
const OpsName = "ops-replay-quality"

// OpsInput is the input of the ops workflow (the original project's
// `make ops-start` payload). Either WindowHours or both Start and End say
// which bronze objects to replay. Its schema is schema/ops_input.schema.json;
// the workflow's first state checks the input against it.
type OpsInput struct {
	BronzeBucket   string `json:"bronze_bucket" jsonschema:"minLength=3,maxLength=63,description=Bucket holding the bronze objects to replay."`
	SrcPrefix      string `json:"src_prefix" jsonschema:"minLength=1,description=Prefix of the objects to replay\\, e.g. bronze/shipments/."`
	DestPrefixBase string `json:"dest_prefix_base" jsonschema:"minLength=1,description=Replayed copies go to <dest_prefix_base>/<execution name>/<key without the bronze prefix> (deterministic: a retry overwrites); it must lie under the bronze prefix ingest watches\\, e.g. bronze/replay. Objects under it are never replayed again."`
	WindowHours    *int   `json:"window_hours,omitempty" jsonschema:"minimum=1,maximum=8760,description=Replay objects modified in the N hours before the execution started (instead of start/end)."`
	Start          string `json:"start,omitempty" jsonschema:"format=date-time,description=Start of the replay window (RFC 3339\\, inclusive)\\, with end."`
	End            string `json:"end,omitempty" jsonschema:"format=date-time,description=End of the replay window (RFC 3339\\, exclusive)\\, with start."`
	SilverBucket   string `json:"silver_bucket" jsonschema:"minLength=3,maxLength=63,description=Bucket holding silver Parquet\\, transform receipts and the replay copy lists."`
	SilverPrefix   string `json:"silver_prefix" jsonschema:"minLength=1,description=Silver prefix\\, e.g. silver/."`
	// PollIntervalSeconds is the wait before each silver poll.
	PollIntervalSeconds int `json:"poll_interval_seconds" jsonschema:"minimum=1,maximum=3600,description=Seconds between silver polls."`
	MaxAttempts         int `json:"max_attempts" jsonschema:"minimum=1,maximum=1000,description=Silver polls before giving up."`
}

// JSONSchemaExtend states the window rule: window_hours, or start and end.
func (OpsInput) JSONSchemaExtend(s *jsonschema.Schema) {
	s.OneOf = []*jsonschema.Schema{
		{Required: []string{"window_hours"}, Not: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Required: []string{"start"}}, {Required: []string{"end"}}}}},
		{Required: []string{"start", "end"}, Not: &jsonschema.Schema{Required: []string{"window_hours"}}},
	}
}

// Error names the ops workflow raises itself.
const (
	ErrSilverNotReady = "Ops.SilverNotReady"
)

// Transient Lambda errors worth retrying (Step Functions "Handling errors":
// retry Lambda service exceptions); a function's own errors are not.
var lambdaTransient = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
}

func retryLambda(alsoTimeout bool) asl.RetryRule {
	errs := append([]string(nil), lambdaTransient...)
	if alsoTimeout {
		errs = append(errs, asl.ErrTimeout)
	}
	return asl.RetryOn(errs...).Interval(2).Attempts(6).Backoff(2).MaxDelay(60).Jitter()
}

// toNotify routes any error to the failure notification, keeping the input
// and putting {Error, Cause} at $.error.
func toNotify() asl.CatchRule {
	return asl.CatchAll().ResultPath("$.error").Next("NotifyFailure")
}

// OpsReplayQuality is the ops workflow: check the input against its schema,
// replay a bronze window with a distributed Map over the bronze listing
// (each batch copies its in-window objects under a new bronze key so the
// normal ingest path runs again, and records the copies), then poll silver
// until every copy's transform receipts and files are there, or the
// attempts run out; notify on any failure.
//
// Tasks it needs (Lambda functions): validate_input (fails on an invalid
// input), replay (a batch {"BatchInput", "Items"} -> {"copied", ...}),
// silverpoll ({"ready", "expected_objects", "landed_objects", "rows",
// "missing"}).
func OpsReplayQuality() Workflow {
	return Workflow{
		Name:        OpsName,
		File:        "ops_replay_quality",
		InputSchema: "ops_input.schema.json",
		Placeholders: []string{
			"notification_topic_arn",
			"replay_function_arn",
			"silverpoll_function_arn",
			"validate_input_function_arn",
		},
		Tasks: []string{"replay", "silverpoll", "validate_input"},
		Build: buildOps,
	}
}

// Replay batching: a batch's input (its items as the listing yields them,
// ~150 bytes each) stays well under the 256 KiB payload quota, and each
// batch reports only {"copied": n} so the Map's collected output stays
// small for millions of listed objects.
const (
	opsReplayBatchItems   = 500
	opsReplayBatchBytes   = 200 * 1024
	opsReplayConcurrency  = 10
	opsReplayBatchTimeout = 900
)

func buildOps() (*asl.StateMachine, error) {
	payloadOnly := asl.Obj("Payload", asl.Ref("$.Payload"))
	return asl.New("Replay a bronze window (distributed Map over the bronze listing), then poll silver until every replayed object's transform receipts and files are there; notify and fail on any error.").
		TimeoutSeconds(86400).
		States(
			asl.Task("ValidateInput").
				Comment("Check the input against schema/ops_input.schema.json; the function fails with ValidateInput.InvalidInput.").
				Resource(asl.LambdaInvoke("${validate_input_function_arn}", asl.Obj(
					"schema", "ops_input.schema.json",
					"input", asl.Ref("$"),
				))).
				DiscardResult().
				TimeoutSeconds(30).
				Retry(retryLambda(true)).
				Catch(toNotify()).
				Next("Init"),
			asl.Pass("Init").
				Result(asl.Obj("count", 0)).
				ResultPath("$.attempt").
				Next("Replay"),
			asl.Map("Replay").
				Comment("List src_prefix; each batch copies its objects modified in the window to dest_prefix_base/<execution name>/ (deterministic keys: a retry overwrites) and writes its copy list to ops/replay/<execution name>/ in the silver bucket.").
				ItemReader(asl.ItemReader{
					Resource:   "arn:aws:states:::s3:listObjectsV2",
					Parameters: ptr(asl.Obj("Bucket", asl.Ref("$.bronze_bucket"), "Prefix", asl.Ref("$.src_prefix"))),
				}).
				ItemBatcher(asl.ItemBatcher{
					MaxItemsPerBatch:      ptr(opsReplayBatchItems),
					MaxInputBytesPerBatch: ptr(opsReplayBatchBytes),
					// Evaluated in this execution: the children are
					// executions of their own, with their own $$.Execution.
					BatchInput: ptr(asl.Obj(
						"request", asl.Ref("$"),
						"execution_name", asl.Ref(asl.ExecutionNameContextPath),
						"execution_start", asl.Ref("$$.Execution.StartTime"),
					)),
				}).
				ItemProcessor(asl.Distributed(asl.ExecStandard), asl.Flow(
					asl.Task("ReplayBatch").
						Resource(asl.LambdaInvoke("${replay_function_arn}", asl.Ref("$"))).
						ResultSelector(asl.Obj("copied", asl.Ref("$.Payload.copied"))).
						TimeoutSeconds(opsReplayBatchTimeout).
						// The task names an object store outage retriable;
						// with no tolerated failures one blip would fail
						// the whole replay. Copies are deterministic, so a
						// retried batch overwrites what it already copied.
						Retry(retryLambda(false), asl.RetryOn("Replay.StoreUnavailable").Interval(5).Attempts(3).Backoff(2).Jitter()).
						End(),
				)).
				Label("ReplayBatch").
				MaxConcurrency(opsReplayConcurrency).
				ToleratedFailurePercentage(0).
				ResultSelector(asl.Obj("batches_with_copies", asl.Ref("$[?(@.copied > 0)]"))).
				ResultPath("$.replay").
				Catch(toNotify()).
				Next("Summarise"),
			asl.Pass("Summarise").
				Parameters(asl.Obj("batches_with_copies", asl.ArrayLength(asl.Ref("$.replay.batches_with_copies")))).
				ResultPath("$.replay").
				Next("AnythingCopied"),
			asl.Choice("AnythingCopied").
				When(asl.NumericGreaterThan("$.replay.batches_with_copies", 0), "Wait").
				Default("NothingToReplay"),
			asl.Pass("NothingToReplay").
				Parameters(asl.Obj("note", asl.Format("nothing to replay: no object under s3://{}/{} was modified in the window",
					asl.Ref("$.bronze_bucket"), asl.Ref("$.src_prefix")))).
				ResultPath("$.replay").
				Next("NothingReplayed"),
			asl.Succeed("NothingReplayed"),
			asl.Wait("Wait").
				SecondsPath("$.poll_interval_seconds").
				Next("PollSilver"),
			asl.Task("PollSilver").
				Comment("Ready when every replayed copy has transform receipts for all its chunks and every file they name holds the stated rows.").
				Resource(asl.LambdaInvoke("${silverpoll_function_arn}", asl.Obj(
					"silver_bucket", asl.Ref("$.silver_bucket"),
					"silver_prefix", asl.Ref("$.silver_prefix"),
					"execution_name", asl.Ref(asl.ExecutionNameContextPath),
				))).
				ResultSelector(payloadOnly).
				ResultPath("$.poll").
				TimeoutSeconds(300).
				Retry(retryLambda(true), asl.RetryOn("SilverPoll.StoreUnavailable").Interval(5).Attempts(3).Backoff(2).Jitter()).
				Catch(toNotify()).
				Next("CountAttempt"),
			asl.Pass("CountAttempt").
				Parameters(asl.Obj("count", asl.MathAdd(asl.Ref("$.attempt.count"), 1))).
				ResultPath("$.attempt").
				Next("CheckSilver"),
			asl.Choice("CheckSilver").
				When(asl.And(
					asl.IsPresent("$.poll.Payload.ready", true),
					asl.BooleanEquals("$.poll.Payload.ready", true),
				), "Succeeded").
				When(asl.NumericGreaterThanEqualsPath("$.attempt.count", "$.max_attempts"), "SilverNotReady").
				Default("Wait"),
			asl.Pass("SilverNotReady").
				Parameters(asl.Obj(
					"Error", ErrSilverNotReady,
					"Cause", asl.Format("{} of {} replayed objects landed in s3://{}/{} after {} polls; not yet: {}",
						asl.Ref("$.poll.Payload.landed_objects"), asl.Ref("$.poll.Payload.expected_objects"),
						asl.Ref("$.silver_bucket"), asl.Ref("$.silver_prefix"), asl.Ref("$.attempt.count"),
						asl.JsonToString(asl.Ref("$.poll.Payload.missing"))),
				)).
				ResultPath("$.error").
				Next("NotifyFailure"),
			asl.Task("NotifyFailure").
				Resource(asl.SNSPublishWithSubject("${notification_topic_arn}",
					"elt ops-replay-quality failed",
					asl.Format("Execution {} failed: {}: {}", asl.Ref(asl.ExecutionIDContextPath), asl.Ref("$.error.Error"), asl.Ref("$.error.Cause")),
				)).
				DiscardResult().
				TimeoutSeconds(30).
				Retry(retrySNS()).
				Catch(asl.CatchAll().ResultPath("$.notify_error").Next("Failed")).
				Next("Failed"),
			asl.Fail("Failed").
				ErrorPath("$.error.Error").
				CausePath("$.error.Cause"),
			asl.Succeed("Succeeded"),
		).Build()
}

func ptr[T any](v T) *T { return &v }
