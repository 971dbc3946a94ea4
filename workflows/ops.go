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
	SrcPrefix      string `json:"src_prefix" jsonschema:"minLength=1,description=Prefix of the objects to replay, e.g. bronze/shipments/."`
	DestPrefixBase string `json:"dest_prefix_base" jsonschema:"minLength=1,description=Replayed copies go under <dest_prefix_base>/<execution name>/ so a retried replay overwrites instead of duplicating."`
	WindowHours    *int   `json:"window_hours,omitempty" jsonschema:"minimum=1,maximum=8760,description=Replay objects modified in the last N hours (instead of start/end)."`
	Start          string `json:"start,omitempty" jsonschema:"format=date-time,description=Start of the replay window (RFC 3339), with end."`
	End            string `json:"end,omitempty" jsonschema:"format=date-time,description=End of the replay window (RFC 3339), with start."`
	SilverBucket   string `json:"silver_bucket" jsonschema:"minLength=3,maxLength=63,description=Bucket holding silver Parquet."`
	SilverPrefix   string `json:"silver_prefix" jsonschema:"minLength=1,description=Silver prefix, e.g. silver."`
	RecordType     string `json:"record_type" jsonschema:"pattern=^[a-z][a-z0-9_]*$,description=Record type whose silver partition is polled."`
	// MinParquetObjects is how many new Parquet objects count as received.
	MinParquetObjects   int `json:"min_parquet_objects" jsonschema:"minimum=1,description=New Parquet objects that count as received."`
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
// replay a bronze window (copy objects under a new bronze key so the normal
// ingest path runs again), then poll silver until the record type received
// new Parquet or the attempts run out; notify on any failure.
//
// Tasks it needs (Lambda functions): validate_input (fails on an invalid
// input), replay (returns a summary in Payload), silverpoll (returns
// {"ready": bool, ...} in Payload).
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

func buildOps() (*asl.StateMachine, error) {
	payloadOnly := asl.Obj("Payload", asl.Ref("$.Payload"))
	return asl.New("Replay a bronze window, then poll silver until the record type has new Parquet; notify and fail on any error.").
		TimeoutSeconds(86400).
		States(
			asl.Task("ValidateInput").
				Comment("Check the input against schema/ops_input.schema.json; the function fails on an invalid input.").
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
			asl.Task("Replay").
				Comment("Copy the window's bronze objects under dest_prefix_base/<execution name>/ (deterministic keys: a retry overwrites).").
				Resource(asl.LambdaInvoke("${replay_function_arn}", asl.Obj(
					"request", asl.Ref("$"),
					"dest_prefix", asl.Format("{}/{}", asl.Ref("$.dest_prefix_base"), asl.Ref(asl.ExecutionNameContextPath)),
					"execution_id", asl.Ref(asl.ExecutionIDContextPath),
				))).
				ResultSelector(payloadOnly).
				ResultPath("$.replay").
				TimeoutSeconds(900).
				Retry(retryLambda(false)).
				Catch(toNotify()).
				Next("Wait"),
			asl.Wait("Wait").
				SecondsPath("$.poll_interval_seconds").
				Next("PollSilver"),
			asl.Task("PollSilver").
				Comment("Count silver Parquet objects of the record type written since the execution started.").
				Resource(asl.LambdaInvoke("${silverpoll_function_arn}", asl.Obj(
					"silver_bucket", asl.Ref("$.silver_bucket"),
					"silver_prefix", asl.Ref("$.silver_prefix"),
					"record_type", asl.Ref("$.record_type"),
					"min_parquet_objects", asl.Ref("$.min_parquet_objects"),
					"since", asl.Ref("$$.Execution.StartTime"),
				))).
				ResultSelector(payloadOnly).
				ResultPath("$.poll").
				TimeoutSeconds(60).
				Retry(retryLambda(true)).
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
					"Cause", asl.Format("no new {} Parquet under s3://{}/{} after {} polls",
						asl.Ref("$.record_type"), asl.Ref("$.silver_bucket"), asl.Ref("$.silver_prefix"), asl.Ref("$.attempt.count")),
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
				Retry(asl.RetryOn("SNS.InternalErrorException", "SNS.ThrottledException", "SNS.SdkClientException").
					Interval(2).Attempts(4).Backoff(2).MaxDelay(30).Jitter()).
				Catch(asl.CatchAll().ResultPath("$.notify_error").Next("Failed")).
				Next("Failed"),
			asl.Fail("Failed").
				ErrorPath("$.error.Error").
				CausePath("$.error.Cause"),
			asl.Succeed("Succeeded"),
		).Build()
}
