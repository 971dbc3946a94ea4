package workflows

import (
	"github.com/serverless-elt/elt/asl"
)

// QualityGateName is the state machine name of the quality gate.
const QualityGateName = "quality-gate"

// QualityGateInput is the input of the quality gate (`elt ge start`, the
// partition-ready rule). Its schema is schema/quality_gate_input.schema.json.
// The quality task checks the fields it uses and fails with
// Quality.InvalidInput on a bad one; callers can check the schema first.
type QualityGateInput struct {
	RecordType       string `json:"record_type" jsonschema:"pattern=^[a-z][a-z0-9_]*$,description=Record type of the partition\\, e.g. shipments."`
	Dt               string `json:"dt" jsonschema:"pattern=^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$,format=date,description=Partition date (UTC)\\, YYYY-MM-DD."`
	SilverBucket     string `json:"silver_bucket" jsonschema:"minLength=3,maxLength=63,description=Bucket holding silver Parquet; results\\, reports and markers go there too."`
	SilverPrefix     string `json:"silver_prefix,omitempty" jsonschema:"description=Silver prefix (default silver/)."`
	ResultPrefix     string `json:"result_prefix,omitempty" jsonschema:"description=Prefix of GE validation results (default ge/results)."`
	ReportPrefix     string `json:"report_prefix,omitempty" jsonschema:"description=Prefix of HTML reports (default ge/reports)."`
	QuarantinePrefix string `json:"quarantine_prefix,omitempty" jsonschema:"description=Prefix of quarantine markers (default ge/quarantine)."`
	CatalogDatabase  string `json:"catalog_database,omitempty" jsonschema:"description=Catalog database whose partition location wins over the silver layout (optional)."`
}

// Error names the quality gate raises itself.
const (
	// ErrExpectationsFailed ends a run whose partition failed its suite.
	ErrExpectationsFailed = "Quality.ExpectationsFailed"
	// ErrMalformedQualityResult ends a run whose task returned no verdict.
	ErrMalformedQualityResult = "Quality.MalformedResult"
	// errQualityStoreUnavailable is the quality task's retriable error.
	errQualityStoreUnavailable = "Quality.StoreUnavailable"
)

// S3 errors of the AWS SDK integration worth retrying (Step Functions
// names SDK errors <Service>.<Error>Exception: "Learning to use AWS service
// SDK integrations", https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
var s3Transient = []string{
	"S3.InternalErrorException",
	"S3.ServiceUnavailableException",
	"S3.SlowDownException",
	"S3.SdkClientException",
}

// retrySNS retries SNS publish on the service's transient errors only.
func retrySNS() asl.RetryRule {
	return asl.RetryOn("SNS.InternalErrorException", "SNS.ThrottledException", "SNS.SdkClientException").
		Interval(2).Attempts(4).Backoff(2).MaxDelay(30).Jitter()
}

// QualityGate is the data-quality gate: evaluate the record type's
// expectation suite over one silver partition; pass, or write a quarantine
// marker for the partition, notify, and fail with Quality.ExpectationsFailed.
// Only infrastructure errors are retried (Lambda transients and
// Quality.StoreUnavailable); failed expectations are the task's output, so
// no Retry ever sees them. Any error notifies and fails. A passing run lifts
// the quarantine an earlier failing run left (the quality task removes the
// marker).
//
// Tasks it needs (Lambda functions): quality (tasks/quality).
func QualityGate() Workflow {
	return Workflow{
		Name:         QualityGateName,
		File:         "quality_gate",
		InputSchema:  "quality_gate_input.schema.json",
		Placeholders: []string{"notification_topic_arn", "quality_function_arn"},
		Tasks:        []string{"quality"},
		Build:        buildQualityGate,
	}
}

func buildQualityGate() (*asl.StateMachine, error) {
	p := func(field string) asl.Expr { return asl.Ref("$.quality.Payload." + field) }
	toNotifyError := asl.CatchAll().ResultPath("$.error").Next("NotifyError")
	return asl.New("Evaluate the record type's expectation suite over one silver partition; pass, or quarantine the partition, notify and fail.").
		TimeoutSeconds(3600).
		States(
			asl.Pass("Init").
				Comment("The run is named after the execution, so a redriven or repeated execution rewrites the same result files.").
				Parameters(asl.Obj(
					"run_name", asl.Ref(asl.ExecutionNameContextPath),
					"execution_id", asl.Ref(asl.ExecutionIDContextPath),
				)).
				ResultPath("$.run").
				Next("RunQuality"),
			asl.Task("RunQuality").
				Comment("Evaluate the suite and write the GE result and HTML report; success false is a verdict, not an error. A pass removes an earlier quarantine marker.").
				Resource(asl.LambdaInvoke("${quality_function_arn}", asl.JsonMerge(asl.Ref("$"), asl.Ref("$.run"), false))).
				ResultSelector(asl.Obj("Payload", asl.Ref("$.Payload"))).
				ResultPath("$.quality").
				TimeoutSeconds(900).
				Retry(
					// Not States.Timeout: a run that used its 900 s would use them again.
					asl.RetryOn(append(append([]string(nil), lambdaTransient...), errQualityStoreUnavailable)...).
						Interval(2).Attempts(5).Backoff(2).MaxDelay(60).Jitter(),
				).
				Catch(toNotifyError).
				Next("CheckVerdict"),
			asl.Choice("CheckVerdict").
				When(asl.And(asl.IsPresent("$.quality.Payload.success", true), asl.BooleanEquals("$.quality.Payload.success", true)), "Passed").
				When(asl.And(asl.IsPresent("$.quality.Payload.success", true), asl.BooleanEquals("$.quality.Payload.success", false)), "BuildMarker").
				Default("MalformedResult"),
			asl.Pass("MalformedResult").
				Parameters(asl.Obj(
					"Error", ErrMalformedQualityResult,
					"Cause", "the quality task returned no boolean success field",
				)).
				ResultPath("$.error").
				Next("NotifyError"),
			asl.Pass("BuildMarker").
				Comment("The quarantine marker: which partition, why, where the evidence is, which execution.").
				Parameters(asl.Obj(
					"record_type", asl.Ref("$.record_type"),
					"dt", asl.Ref("$.dt"),
					"partition", p("partition"),
					"result_key", p("result_key"),
					"report_key", p("report_key"),
					"failed_expectations", p("failed_expectations"),
					"statistics", p("statistics"),
					"rows", p("rows"),
					"execution_id", asl.Ref(asl.ExecutionIDContextPath),
					"marked_at", asl.Ref("$$.State.EnteredTime"),
					"summary", asl.Format("{} dt={} failed {} of {} expectations: {} (result s3://{}/{})",
						asl.Ref("$.record_type"), asl.Ref("$.dt"),
						p("statistics.unsuccessful_expectations"), p("statistics.evaluated_expectations"),
						asl.JsonToString(p("failed_expectations")), asl.Ref("$.silver_bucket"), p("result_key")),
				)).
				ResultPath("$.marker").
				Next("WriteQuarantineMarker"),
			asl.Task("WriteQuarantineMarker").
				Comment("Mark the partition as quarantined: ge/quarantine/<type>/dt=<dt>/marker.json in the silver bucket.").
				Resource(asl.S3PutObject(asl.Ref("$.silver_bucket"), p("quarantine_key"), asl.JsonToString(asl.Ref("$.marker")))).
				ResultSelector(asl.Obj("ETag", asl.Ref("$.ETag"))).
				ResultPath("$.marker_object").
				TimeoutSeconds(60).
				Retry(asl.RetryOn(s3Transient...).Interval(1).Attempts(5).Backoff(2).MaxDelay(30).Jitter()).
				Catch(toNotifyError).
				Next("NotifyQualityFailure"),
			asl.Task("NotifyQualityFailure").
				Resource(asl.SNSPublishWithSubject("${notification_topic_arn}",
					"elt quality gate failed",
					asl.Format("Data quality gate failed for {} dt={} (partition {}). Failed expectations: {}. GE result: s3://{}/{} . Report: s3://{}/{} . Quarantine marker: s3://{}/{} . Execution: {}",
						asl.Ref("$.record_type"), asl.Ref("$.dt"), p("partition"),
						asl.JsonToString(p("failed_expectations")),
						asl.Ref("$.silver_bucket"), p("result_key"),
						asl.Ref("$.silver_bucket"), p("report_key"),
						asl.Ref("$.silver_bucket"), p("quarantine_key"),
						asl.Ref(asl.ExecutionIDContextPath)),
				)).
				DiscardResult().
				TimeoutSeconds(30).
				Retry(retrySNS()).
				// A lost notification must not hide the verdict.
				Catch(asl.CatchAll().ResultPath("$.notify_error").Next("ExpectationsFailed")).
				Next("ExpectationsFailed"),
			asl.Fail("ExpectationsFailed").
				Error(ErrExpectationsFailed).
				CausePath("$.marker.summary"),
			asl.Task("NotifyError").
				Resource(asl.SNSPublishWithSubject("${notification_topic_arn}",
					"elt quality gate error",
					asl.Format("Quality gate execution {} failed: {}: {}. Input: {}",
						asl.Ref(asl.ExecutionIDContextPath), asl.Ref("$.error.Error"), asl.Ref("$.error.Cause"),
						asl.JsonToString(asl.Ref("$$.Execution.Input"))),
				)).
				DiscardResult().
				TimeoutSeconds(30).
				Retry(retrySNS()).
				Catch(asl.CatchAll().ResultPath("$.notify_error").Next("Failed")).
				Next("Failed"),
			asl.Fail("Failed").
				ErrorPath("$.error.Error").
				CausePath("$.error.Cause"),
			asl.Succeed("Passed"),
		).Build()
}
