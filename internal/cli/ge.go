package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

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

var (
	recordTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dtRE         = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// checkPartition validates --record-type and --dt.
func checkPartition(recordType, dt string) error {
	if !recordTypeRE.MatchString(recordType) {
		return fmt.Errorf("--record-type %q: want a record type name (e.g. shipments)", recordType)
	}
	if !dtRE.MatchString(dt) {
		return fmt.Errorf("--dt %q: want YYYY-MM-DD", dt)
	}
	if _, err := time.Parse("2006-01-02", dt); err != nil {
		return fmt.Errorf("--dt %q: %v", dt, err)
	}
	return nil
}

// partitionName is an execution name for a partition run: PREFIX-TYPE-DT-
// TIME-RAND, cut to Step Functions' 80 characters.
func partitionName(prefix, recordType, dt string, now time.Time) string {
	n := executionName(fmt.Sprintf("%s-%s-%s", prefix, recordType, dt), now)
	if len(n) > 80 {
		n = n[len(n)-80:]
	}
	return n
}

func runGe(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stderr, "usage: %s\n", geUsage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	verb, args := args[0], args[1:]
	switch verb {
	case "start":
		return geStart(ctx, env, args)
	case "status", "history":
		return flowShow(ctx, env, "ge", qualityFlow, verb, geUsage, args)
	}
	fmt.Fprintf(env.Stderr, "elt ge: unknown verb %q\n\nusage: %s\n", verb, geUsage)
	return ExitUsage
}

func geStart(ctx context.Context, env Env, args []string) int {
	const cmd = "elt ge start"
	fs := newFlagSet("ge start", geUsage, env)
	var tf targetFlags
	tf.register(fs, env, "json")
	recordType := fs.String("record-type", "", "record type of the partition (required)")
	dt := fs.String("dt", "", "partition date YYYY-MM-DD (required)")
	resultPrefix := fs.String("result-prefix", "", "where validation results go in the silver bucket (default ge/results)")
	name := fs.String("name", "", "execution name (default: ge-<type>-<dt>-<time>-<random>)")
	wait := fs.Bool("wait", true, "wait for the verdict (always, when the execution runs in this process)")
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	err := tf.check()
	if err == nil {
		err = checkPartition(*recordType, *dt)
	}
	if err != nil || len(rest) > 0 {
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		}
		fs.Usage()
		return ExitUsage
	}
	t, err := openTarget(ctx, env, &tf, cmd)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return ExitFailure
	}
	defer t.Close()
	in := map[string]any{
		"record_type":   *recordType,
		"dt":            *dt,
		"silver_bucket": t.cfg.SilverBucket,
		"silver_prefix": t.cfg.SilverPrefix,
	}
	if *resultPrefix != "" {
		in["result_prefix"] = *resultPrefix
	}
	b, _ := json.Marshal(in)
	if *name == "" {
		*name = partitionName("ge", *recordType, *dt, time.Now())
	}
	return startExecution(ctx, env, t, startOpts{flow: qualityFlow, name: *name, input: b, wait: *wait, cmd: cmd, tf: &tf})
}
