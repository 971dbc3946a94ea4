package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/embedded"
)

// ---------------------------------------------------------------- elt ops

const opsUsage = `elt ops start [--input JSON|@FILE] [--name N] [--wait] [--target embedded|aws] [--data-dir D]
       elt ops status [EXECUTION] [--output json|table]
       elt ops history [EXECUTION] [--output json|table]

The ops workflow (ops-replay-quality): replay a window of bronze objects
through the hot path and poll silver until the replayed data landed.

start starts an execution. Without --input it replays the last 24 hours of
the embedded bronze prefix (or, on AWS, of the deployed bronze bucket).
Embedded without a running 'elt up', the engine and the hot path
(ingest, transform) run in this process until the execution ends; with a
running 'elt up' the command hands the execution to it (and follows it
with --wait). status prints an execution (the latest by default) like
DescribeExecution; history prints its events.
EXECUTION is an execution name or ARN.

Every flag of every verb (also --target aws --tf-dir DIR | --tf-outputs FILE):
run 'elt ops start --help'.
Exit codes: 0 succeeded (or running), 1 failed/timed out/aborted or not
found, 2 bad usage.`

func runOps(ctx context.Context, env Env, args []string) int {
	verbs := showVerbs("ops", opsUsage, opsFlow, "status", "history")
	verbs["start"] = opsStart
	return runVerbs(ctx, env, "ops", opsUsage, args, verbs)
}

// defaultOpsInput replays the last 24 hours of the bronze prefix into
// <bronze prefix>replay/manual/<execution name>/ and polls silver every few
// seconds.
func defaultOpsInput(cfg embedded.Config) map[string]any {
	return map[string]any{
		"bronze_bucket":         cfg.BronzeBucket,
		"src_prefix":            cfg.BronzePrefix,
		"dest_prefix_base":      strings.TrimSuffix(cfg.BronzePrefix, "/") + "/replay/manual",
		"window_hours":          24,
		"silver_bucket":         cfg.SilverBucket,
		"silver_prefix":         cfg.SilverPrefix,
		"poll_interval_seconds": 2,
		"max_attempts":          60,
	}
}

func opsStart(ctx context.Context, env Env, args []string) int {
	const cmd = "elt ops start"
	fs, tf := newTargetFlagSet("ops start", opsUsage, env, "json")
	input := fs.String("input", "", "execution input: JSON text or @FILE (default: replay the last 24h of bronze)")
	name := fs.String("name", "", "execution name (default: manual-<time>-<random>); unique per state machine")
	wait := fs.Bool("wait", false, "wait for the execution to end (always, when it runs in this process)")
	if _, code, done := parseTargetFlags(env, fs, tf, cmd, args, 0, nil); done {
		return code
	}
	var in json.RawMessage
	if *input != "" {
		var err error
		if in, err = readInput(*input); err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
			return ExitUsage
		}
	}
	t, code := openTargetOrReport(ctx, env, tf, cmd)
	if t == nil {
		return code
	}
	defer t.Close()
	if in == nil {
		in, _ = json.Marshal(defaultOpsInput(t.cfg))
	}
	if *name == "" {
		*name = executionName("manual", time.Now())
	}
	return startExecution(ctx, env, t, startOpts{flow: opsFlow, name: *name, input: in, wait: *wait, hotPath: true, cmd: cmd, tf: tf})
}
