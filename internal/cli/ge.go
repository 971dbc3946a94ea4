package cli

import "context"

const geUsage = `elt ge start --record-type T --dt YYYY-MM-DD [--result-prefix P] [--name N]
                [--wait=true] [--target embedded|aws] [--data-dir D]
       elt ge status [EXECUTION] [--output json|table]
       elt ge history [EXECUTION] [--output json|table]

The quality gate (quality-gate workflow, "Great Expectations"): evaluate
the record type's expectation suite over one silver partition, write a
GE-shaped validation result under the result prefix (default ge/results),
and on failure write a quarantine marker and send a notification (the
embedded outbox is <data-dir>/notify/outbox.jsonl).

start runs the gate on one partition and waits for its verdict (exit 0:
the partition passed; 1: it failed, or the run failed). status prints an
execution (the latest by default) like DescribeExecution; history prints
its events. EXECUTION is an execution name or ARN.
Exit codes: 0 succeeded (or running), 1 failed/timed out/aborted or not
found, 2 bad usage.`

func runGe(ctx context.Context, env Env, args []string) int {
	verbs := showVerbs("ge", geUsage, qualityFlow, "status", "history")
	verbs["start"] = geStart.run
	return runVerbs(ctx, env, "ge", geUsage, args, verbs)
}

// geStart runs the quality gate over one partition.
var geStart = partitionStart{
	noun: "ge", verb: "start", usage: geUsage, flow: qualityFlow, namePrefix: "ge",
	prefixFlag: "result-prefix",
	prefixHelp: "where validation results go in the silver bucket (default ge/results)",
	waitHelp:   "wait for the verdict (always, when the execution runs in this process)",
	input: func(t *target, recordType, dt, resultPrefix string) map[string]any {
		in := map[string]any{
			"record_type":   recordType,
			"dt":            dt,
			"silver_bucket": t.cfg.SilverBucket,
			"silver_prefix": t.cfg.SilverPrefix,
		}
		if resultPrefix != "" {
			in["result_prefix"] = resultPrefix
		}
		return in
	},
}
