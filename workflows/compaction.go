package workflows

import (
	"slices"

	"github.com/invopop/jsonschema"

	"github.com/serverless-elt/elt/asl"
)

// CompactionName is the state machine name of the compaction backfill.
const CompactionName = "compaction-backfill"

// CompactionPartition is one partition named explicitly.
type CompactionPartition struct {
	RecordType string `json:"record_type" jsonschema:"pattern=^[a-z][a-z0-9_]*$"`
	Dt         string `json:"dt" jsonschema:"format=date,description=Partition date YYYY-MM-DD."`
}

// CompactionInput is the input of the compaction backfill (`make
// glue-job-start`): record type(s) and an inclusive dt range, or an
// explicit partition list. Its schema is
// schema/compaction_input.schema.json.
type CompactionInput struct {
	SilverBucket    string                `json:"silver_bucket" jsonschema:"minLength=3,maxLength=63,description=Bucket holding silver Parquet (and the compacted files)."`
	SilverPrefix    string                `json:"silver_prefix,omitempty" jsonschema:"description=Silver prefix (default silver/)."`
	OutputPrefix    string                `json:"output_prefix,omitempty" jsonschema:"description=Where compacted files go (default silver_compacted/): <output_prefix><type>/dt=<dt>/<execution name>/."`
	RecordTypes     []string              `json:"record_types,omitempty" jsonschema:"minItems=1,description=Record types to compact over the dt range."`
	RecordType      string                `json:"record_type,omitempty" jsonschema:"pattern=^[a-z][a-z0-9_]*$,description=One record type to compact over the dt range."`
	DtFrom          string                `json:"dt_from,omitempty" jsonschema:"format=date,description=First partition date (inclusive)."`
	DtTo            string                `json:"dt_to,omitempty" jsonschema:"format=date,description=Last partition date (inclusive)."`
	Partitions      []CompactionPartition `json:"partitions,omitempty" jsonschema:"minItems=1,maxItems=1000,description=Explicit partitions (instead of record types and a dt range)."`
	TargetFileBytes int64                 `json:"target_file_bytes,omitempty" jsonschema:"minimum=1,maximum=5368709120,description=Output file size aimed at (default 134217728 = 128 MiB; at most 5 GiB)."`
	Cleanup         bool                  `json:"cleanup,omitempty" jsonschema:"description=Remove the superseded input files after each switch (default false)."`
}

// JSONSchemaExtend states the selection rule: partitions, or record
// type(s) with dt_from and dt_to.
func (CompactionInput) JSONSchemaExtend(s *jsonschema.Schema) {
	rangeKeys := []*jsonschema.Schema{{Required: []string{"record_type"}}, {Required: []string{"record_types"}}, {Required: []string{"dt_from"}}, {Required: []string{"dt_to"}}}
	s.OneOf = []*jsonschema.Schema{
		{Required: []string{"partitions"}, Not: &jsonschema.Schema{AnyOf: rangeKeys}},
		{
			Required: []string{"dt_from", "dt_to"},
			AnyOf:    []*jsonschema.Schema{{Required: []string{"record_type"}}, {Required: []string{"record_types"}}},
			Not:      &jsonschema.Schema{Required: []string{"partitions"}},
		},
	}
}

// compactionDefaults fill what the input leaves out, so the states below
// can reference every field.
func compactionDefaults() asl.Value {
	return asl.Obj(
		"silver_prefix", "silver/",
		"output_prefix", "silver_compacted/",
		"target_file_bytes", 134217728,
		"cleanup", false,
	)
}

// Errors worth retrying in the backfill: Lambda's own transients and the
// tasks' store-unavailable error (a compact retry rewrites the same run's
// outputs, so it is safe). Nothing else: a bad input, a corrupt file or a
// failed verification will not get better by itself.
// (Step Functions "Handling errors": retry Lambda service exceptions.)
func retryCompaction() asl.RetryRule {
	errs := append(slices.Clone(lambdaTransient), "Compact.StoreUnavailable")
	return asl.RetryOn(errs...).Interval(2).Attempts(5).Backoff(2).MaxDelay(60).Jitter()
}

// CompactionBackfill compacts many partitions: list them, then a Map runs
// compact per partition (at most 4 at a time) and, when asked, cleanup;
// any failure is notified and fails the execution.
//
// Tasks it needs (Lambda functions): list_partitions, compact,
// compact_cleanup (package tasks/compact).
func CompactionBackfill() Workflow {
	return Workflow{
		Name:        CompactionName,
		File:        "compaction_backfill",
		InputSchema: "compaction_input.schema.json",
		Placeholders: []string{
			"compact_cleanup_function_arn",
			"compact_function_arn",
			"list_partitions_function_arn",
			"notification_topic_arn",
		},
		Tasks: []string{"compact_cleanup", "compact", "list_partitions"},
		Build: buildCompaction,
	}
}

func buildCompaction() (*asl.StateMachine, error) {
	compactFlow := asl.Flow(
		asl.Task("Compact").
			Comment("Merge, dedupe and sort one partition into <output_prefix><type>/dt=<dt>/<run id>/, verify, then switch the catalog partition.").
			Resource(asl.LambdaInvoke("${compact_function_arn}", asl.Obj(
				"silver_bucket", asl.Ref("$.silver_bucket"),
				"silver_prefix", asl.Ref("$.silver_prefix"),
				"output_prefix", asl.Ref("$.output_prefix"),
				"record_type", asl.Ref("$.record_type"),
				"dt", asl.Ref("$.dt"),
				"run_id", asl.Ref("$.run_id"),
				"target_file_bytes", asl.Ref("$.target_file_bytes"),
			))).
			ResultSelector(asl.Obj(
				"record_type", asl.Ref("$.Payload.record_type"),
				"dt", asl.Ref("$.Payload.dt"),
				"status", asl.Ref("$.Payload.status"),
				"bucket", asl.Ref("$.Payload.bucket"),
				"manifest_key", asl.Ref("$.Payload.manifest_key"),
				"output_files", asl.Ref("$.Payload.output_files"),
				"output_rows", asl.Ref("$.Payload.output_rows"),
				"duplicates_removed", asl.Ref("$.Payload.duplicates_removed"),
			)).
			ResultPath("$.compact").
			TimeoutSeconds(900).
			Retry(retryCompaction()).
			Next("CleanupWanted"),
		asl.Choice("CleanupWanted").
			When(asl.And(
				asl.BooleanEquals("$.cleanup", true),
				asl.Not(asl.StringEquals("$.compact.manifest_key", "")),
			), "Cleanup").
			Default("PartitionDone"),
		asl.Task("Cleanup").
			Comment("Remove the superseded inputs, only while the catalog points at the manifest's outputs and each input still has its recorded ETag.").
			Resource(asl.LambdaInvoke("${compact_cleanup_function_arn}", asl.Obj(
				"bucket", asl.Ref("$.compact.bucket"),
				"manifest_key", asl.Ref("$.compact.manifest_key"),
			))).
			ResultSelector(asl.Obj(
				"status", asl.Ref("$.Payload.status"),
				"deleted", asl.Ref("$.Payload.deleted"),
				"spared", asl.ArrayLength(asl.Ref("$.Payload.spared")),
			)).
			ResultPath("$.compact.cleanup").
			TimeoutSeconds(300).
			Retry(retryCompaction()).
			Next("PartitionDone"),
		asl.Succeed("PartitionDone").
			OutputPath("$.compact"),
	)
	return asl.New("Compact silver partitions (Glue compaction backfill): list them, compact each (dedupe by event_id, sort, target-size files, manifest, verify, switch the catalog), optionally remove superseded files; notify and fail on any error.").
		TimeoutSeconds(86400).
		States(
			asl.Pass("Defaults").
				Parameters(asl.Obj("defaults", compactionDefaults(), "input", asl.Ref("$"))).
				Next("ApplyDefaults"),
			asl.Pass("ApplyDefaults").
				Parameters(asl.Obj("request", asl.JsonMerge(asl.Ref("$.defaults"), asl.Ref("$.input"), false))).
				OutputPath("$.request").
				Next("ListPartitions"),
			asl.Task("ListPartitions").
				Comment("The partitions to compact: an explicit list, or the dt= prefixes of the record types within [dt_from, dt_to].").
				Resource(asl.LambdaInvoke("${list_partitions_function_arn}", asl.Ref("$"))).
				ResultSelector(asl.Obj(
					"partitions", asl.Ref("$.Payload.partitions"),
					"count", asl.Ref("$.Payload.count"),
				)).
				ResultPath("$.listing").
				TimeoutSeconds(300).
				Retry(retryCompaction()).
				Catch(toNotify()).
				Next("CompactPartitions"),
			asl.Map("CompactPartitions").
				ItemsPath("$.listing.partitions").
				ItemSelector(asl.Obj(
					"record_type", asl.Ref("$$.Map.Item.Value.record_type"),
					"dt", asl.Ref("$$.Map.Item.Value.dt"),
					"silver_bucket", asl.Ref("$.silver_bucket"),
					"silver_prefix", asl.Ref("$.silver_prefix"),
					"output_prefix", asl.Ref("$.output_prefix"),
					"target_file_bytes", asl.Ref("$.target_file_bytes"),
					"cleanup", asl.Ref("$.cleanup"),
					"run_id", asl.Ref(asl.ExecutionNameContextPath),
				)).
				MaxConcurrency(4).
				ItemProcessor(asl.Inline(), compactFlow).
				// A small result whatever the number of partitions: the count
				// and the manifests written by this run. (Filters are allowed
				// in ResultSelector paths, unlike reference paths: Step
				// Functions developer guide, "Using JSONPath paths".)
				ResultSelector(asl.Obj(
					"partitions", asl.ArrayLength(asl.Ref("$")),
					"compacted", asl.Ref("$[?(@.status == 'compacted')].manifest_key"),
				)).
				ResultPath("$.compaction").
				Catch(toNotify()).
				Next("Done"),
			asl.Task("NotifyFailure").
				Resource(asl.SNSPublishWithSubject("${notification_topic_arn}",
					"elt compaction-backfill failed",
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
			asl.Succeed("Done").
				OutputPath("$.compaction"),
		).Build()
}
