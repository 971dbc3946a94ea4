package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/asl/engine/sfnlocal"
	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/orchestrator"
	"github.com/serverless-elt/elt/internal/sfnclient"
	"github.com/serverless-elt/elt/workflows"
)

// This file holds what the workflow commands (`elt ops`, `elt ge`, `elt
// glue`) share: verb dispatch, the target flags, and how a command reaches
// Step Functions. Every command drives the workflows with
// internal/sfnclient, the same client code for both targets:
//
//   - embedded (default): the local Step Functions API of the data dir. If a
//     running `elt up` advertises one (<data-dir>/sfn/endpoint answers), the
//     command uses it; otherwise it opens the orchestrator in-process, serves
//     the API on 127.0.0.1:0 for itself, and, since the execution lives in
//     this process, waits for it to end.
//   - aws: AWS Step Functions, state machine ARNs from the Terraform outputs
//     (`terraform -chdir=TF_DIR output -json`, or a saved copy with
//     --tf-outputs FILE).

// flow is one workflow as the commands know it.
type flow struct {
	name   string // state machine name (workflows.Workflow.Name)
	output string // Terraform output holding its ARN
}

var (
	opsFlow        = flow{name: workflows.OpsName, output: "ops_state_machine_arn"}
	qualityFlow    = flow{name: "quality-gate", output: "quality_gate_state_machine_arn"}
	compactionFlow = flow{name: "compaction-backfill", output: "compaction_state_machine_arn"}
)

// targetFlags are the flags of every ops/ge/glue command.
type targetFlags struct {
	stack     stackFlags
	target    string
	tfDir     string
	tfOutputs string
	endpoint  string
	output    string
}

func (f *targetFlags) register(fs *flag.FlagSet, env Env, defaultOutput string) {
	f.stack.register(fs, env)
	fs.StringVar(&f.target, "target", envOr(env, "ELT_TARGET", "embedded"), "where the workflows run: embedded or aws (env ELT_TARGET)")
	fs.StringVar(&f.tfDir, "tf-dir", envOr(env, "TF_DIR", "terraform/envs/dev"), "Terraform directory whose outputs name the AWS resources (--target aws)")
	fs.StringVar(&f.tfOutputs, "tf-outputs", env.Getenv("ELT_TF_OUTPUTS"), "read the Terraform outputs from this file (`terraform output -json` saved) instead of running terraform (--target aws)")
	fs.StringVar(&f.endpoint, "endpoint-url", "", "send AWS API calls to this endpoint instead (--target aws; like the AWS CLI's --endpoint-url)")
	fs.StringVar(&f.output, "output", defaultOutput, "output format: json or table")
}

func envOr(env Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

func (f *targetFlags) check() error {
	if f.target != "embedded" && f.target != "aws" {
		return fmt.Errorf("--target must be embedded or aws, not %q", f.target)
	}
	if f.output != "json" && f.output != "table" {
		return fmt.Errorf("--output must be json or table, not %q", f.output)
	}
	return nil
}

// target is an open connection to Step Functions for one command.
type target struct {
	kind    string // "embedded" or "aws"
	client  *sfnclient.Client
	cfg     embedded.Config
	outputs map[string]string // Terraform outputs (aws)
	// orch is the in-process orchestrator (embedded, no `elt up`); nil when
	// delegating to a running `elt up` or on AWS.
	orch *orchestrator.Orchestrator
	// endpoint is the local API's URL (embedded).
	endpoint string
}

func (t *target) Close() {
	if t.orch != nil {
		t.orch.Close()
	}
}

// inProcess reports whether executions started now live in this process.
func (t *target) inProcess() bool { return t.orch != nil }

// arn is the state machine ARN of a workflow.
func (t *target) arn(f flow) (string, error) {
	if t.kind == "embedded" {
		return engine.StateMachineArn(f.name), nil
	}
	v := t.outputs[f.output]
	if v == "" {
		return "", fmt.Errorf("Terraform output %q is missing or empty (is the workflow deployed? outputs found: %s)", f.output, strings.Join(sortedNames(t.outputs), ", "))
	}
	return v, nil
}

// executionArn resolves an EXECUTION argument: an ARN as is, a name
// within the workflow's state machine.
func (t *target) executionArn(f flow, ref string) (string, error) {
	if strings.HasPrefix(ref, "arn:") {
		return ref, nil
	}
	sm, err := t.arn(f)
	if err != nil {
		return "", err
	}
	// arn:aws:states:REGION:ACCOUNT:stateMachine:NAME -> ...:execution:NAME:EXEC
	return strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":" + ref, nil
}

func sortedNames[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// openTarget connects to Step Functions for cmd.
func openTarget(ctx context.Context, env Env, f *targetFlags, cmd string) (*target, error) {
	if f.target == "aws" {
		return openAWS(ctx, env, f)
	}
	cfg := f.stack.config(env).WithDefaults()
	t := &target{kind: "embedded", cfg: cfg}
	if ep, ok := sfnlocal.Discover(ctx, orchestrator.EndpointPath(cfg.DataDir)); ok {
		t.endpoint = ep
		t.client = sfnclient.New(sfnlocal.Client(ep), localPoll())
		fmt.Fprintf(env.Stderr, "%s: using the Step Functions endpoint of the running 'elt up' (%s)\n", cmd, ep)
		return t, nil
	}
	o, err := orchestrator.Open(ctx, orchestrator.Config{Stack: cfg, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	ep, err := o.ServePrivate(ctx)
	if err != nil {
		o.Close()
		return nil, err
	}
	t.orch, t.endpoint = o, ep
	t.client = sfnclient.New(sfnlocal.Client(ep), localPoll())
	return t, nil
}

func localPoll() sfnclient.Options {
	return sfnclient.Options{Poll: 200 * time.Millisecond, MaxPoll: time.Second}
}

func openAWS(ctx context.Context, env Env, f *targetFlags) (*target, error) {
	outs, err := terraformOutputs(ctx, f.tfDir, f.tfOutputs)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: outs["region"], Endpoint: f.endpoint})
	if err != nil {
		return nil, err
	}
	ec := embedded.Config{BronzeBucket: outs["bronze_bucket"], SilverBucket: outs["silver_bucket"]}.WithDefaults()
	return &target{kind: "aws", cfg: ec, outputs: outs, client: sfnclient.New(sfnclient.NewClient(cfg), sfnclient.Options{Poll: 2 * time.Second})}, nil
}

// terraformOutputs reads `terraform output -json` (from file when given):
// {"name": {"value": V, "type": ..., "sensitive": ...}}; string values are
// kept, others are JSON text.
func terraformOutputs(ctx context.Context, dir, file string) (map[string]string, error) {
	var data []byte
	var err error
	if file != "" {
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("read Terraform outputs: %w", err)
		}
	} else {
		cmd := exec.CommandContext(ctx, "terraform", "-chdir="+dir, "output", "-json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if data, err = cmd.Output(); err != nil {
			return nil, fmt.Errorf("terraform -chdir=%s output -json: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
		}
	}
	var raw map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse Terraform outputs: %w", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("Terraform outputs in %s are empty: run 'make tf-apply' first", dir)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v.Value, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v.Value)
		}
	}
	return out, nil
}

// executionName makes a readable unique name: PREFIX-YYYYMMDDTHHMMSSZ-RAND.
func executionName(prefix string, now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", prefix, now.UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:]))
}

// readInput returns --input's JSON (text or @FILE).
func readInput(s string) (json.RawMessage, error) {
	if file, ok := strings.CutPrefix(s, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--input: %w", err)
		}
		s = string(b)
	}
	if !json.Valid([]byte(s)) {
		return nil, errors.New("--input is not valid JSON")
	}
	return json.RawMessage(s), nil
}

// startOpts is one start request.
type startOpts struct {
	flow     flow
	name     string
	input    json.RawMessage
	wait     bool
	hotPath  bool // run the stack's ingest/transform while waiting in-process
	cmd      string
	tf       *targetFlags
	describe func(sfnclient.Execution) // extra lines after the result (table output)
}

// startExecution starts (and maybe follows) an execution and prints it.
func startExecution(ctx context.Context, env Env, t *target, o startOpts) int {
	arn, err := t.arn(o.flow)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", o.cmd, err)
		return ExitFailure
	}
	wait := o.wait || t.inProcess()
	var stopHot func() error
	if wait && o.hotPath && t.inProcess() {
		stopHot, err = runHotPath(ctx, env, o.tf, o.cmd)
		if err != nil {
			return ExitFailure
		}
	}
	xarn, err := t.client.Start(ctx, arn, o.name, o.input)
	if err != nil {
		if stopHot != nil {
			stopHot()
		}
		fmt.Fprintf(env.Stderr, "%s: %v\n", o.cmd, err)
		if fault.Is(err, fault.AlreadyExists) {
			fmt.Fprintf(env.Stderr, "%s: execution names are unique per state machine; choose another --name\n", o.cmd)
			return ExitUsage
		}
		if fault.Is(err, fault.InvalidArgument) {
			return ExitUsage
		}
		return ExitFailure
	}
	fmt.Fprintf(env.Stderr, "%s: started %s\n", o.cmd, xarn)
	if !wait {
		return printExecution(env, o.tf.output, sfnclient.Execution{Arn: xarn, StateMachineArn: arn, Status: sfnclient.StatusRunning}, nil)
	}
	x, err := t.client.Wait(ctx, xarn)
	if stopHot != nil {
		if herr := stopHot(); herr != nil {
			fmt.Fprintf(env.Stderr, "%s: hot path: %v\n", o.cmd, herr)
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", o.cmd, err)
		if t.inProcess() {
			// The engine dies with this process: close the execution as
			// ABORTED rather than leave it RUNNING on disk.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, serr := t.orch.Engine().StopExecution(sctx, xarn, "Canceled", o.cmd+" was interrupted")
			cancel()
			fmt.Fprintf(env.Stderr, "%s: the execution ran in this process; stopped it (ABORTED): %v\n", o.cmd, errOrNone(serr))
		}
		return ExitFailure
	}
	return printExecution(env, o.tf.output, x, o.describe)
}

func errOrNone(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// runHotPath runs the stack's ingest/transform loop in this process until
// the returned stop is called. If another process holds the data dir (an
// `elt up` that does not serve the API), that process is running the hot
// path already, and this one only orchestrates.
func runHotPath(ctx context.Context, env Env, tf *targetFlags, cmd string) (func() error, error) {
	cfg := tf.stack.config(env)
	cfg.LockTimeout = min(cfg.LockTimeout, 2*time.Second)
	st, err := embedded.Open(ctx, cfg)
	if err != nil {
		if fault.Is(err, fault.Transient) {
			fmt.Fprintf(env.Stderr, "%s: another process holds %s (an 'elt up'?); relying on it to ingest and transform\n", cmd, tf.stack.dataDir)
			return func() error { return nil }, nil
		}
		fmt.Fprintf(env.Stderr, "%s: open the stack: %v\n", cmd, err)
		return nil, err
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- st.Run(hctx, nil) }()
	return func() error {
		cancel()
		err := <-done
		return errors.Join(err, st.Close())
	}, nil
}

// printExecution prints a DescribeExecution-shaped object (json) or a
// key/value table, and returns the exit code its status implies: 0 for
// SUCCEEDED or RUNNING, 1 otherwise.
func printExecution(env Env, format string, x sfnclient.Execution, extra func(sfnclient.Execution)) int {
	j := ExecutionJSON{
		ExecutionArn: x.Arn, StateMachineArn: x.StateMachineArn, Name: x.Name, Status: x.Status,
		Input: string(x.Input), Output: string(x.Output), Error: x.Error, Cause: x.Cause,
	}
	if !x.StartDate.IsZero() {
		j.StartDate = x.StartDate.UTC().Format(time.RFC3339Nano)
	}
	if !x.StopDate.IsZero() {
		j.StopDate = x.StopDate.UTC().Format(time.RFC3339Nano)
	}
	if format == "json" {
		if err := writeJSON(env.Stdout, j); err != nil {
			return ExitFailure
		}
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "%s\t%s\n", k, v)
			}
		}
		row("execution", j.ExecutionArn)
		row("status", j.Status)
		row("started", j.StartDate)
		row("stopped", j.StopDate)
		row("error", j.Error)
		row("cause", j.Cause)
		row("input", j.Input)
		row("output", j.Output)
		tw.Flush()
		if extra != nil {
			extra(x)
		}
	}
	switch x.Status {
	case sfnclient.StatusSucceeded, sfnclient.StatusRunning:
		return ExitOK
	}
	return ExitFailure
}

// showExecution is `status`: one execution (latest by default).
func showExecution(ctx context.Context, env Env, t *target, f flow, ref, format, cmd string) int {
	xarn, code := resolveExecution(ctx, env, t, f, ref, cmd)
	if xarn == "" {
		return code
	}
	x, err := t.client.Describe(ctx, xarn)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return ExitFailure
	}
	return printExecution(env, format, x, nil)
}

// resolveExecution turns EXECUTION (or nothing: the latest) into an ARN.
func resolveExecution(ctx context.Context, env Env, t *target, f flow, ref, cmd string) (string, int) {
	if ref != "" {
		xarn, err := t.executionArn(f, ref)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
			return "", ExitFailure
		}
		return xarn, ExitOK
	}
	arn, err := t.arn(f)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return "", ExitFailure
	}
	xs, err := t.client.List(ctx, arn, "", 1)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return "", ExitFailure
	}
	if len(xs) == 0 {
		fmt.Fprintf(env.Stderr, "%s: no executions of %s yet\n", cmd, f.name)
		return "", ExitFailure
	}
	return xs[0].Arn, ExitOK
}

// showHistory is `history`: an execution's events (latest by default).
func showHistory(ctx context.Context, env Env, t *target, f flow, ref, format, cmd string) int {
	xarn, code := resolveExecution(ctx, env, t, f, ref, cmd)
	if xarn == "" {
		return code
	}
	evs, err := t.client.History(ctx, xarn)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return ExitFailure
	}
	if format == "json" {
		if err := writeJSON(env.Stdout, map[string]any{"executionArn": xarn, "events": evs}); err != nil {
			return ExitFailure
		}
		return ExitOK
	}
	writeClientHistory(env.Stdout, xarn, evs)
	return ExitOK
}

// writeClientHistory prints one line per event with its most telling
// detail (state name, error and cause, resource).
func writeClientHistory(w io.Writer, xarn string, evs []sfnclient.Event) {
	fmt.Fprintf(w, "%s\n", xarn)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREV\tTIMESTAMP\tTYPE\tDETAIL")
	for _, ev := range evs {
		// The SDK's event details marshal with Go field names (Name,
		// Error, Resource); fold the keys so either spelling reads.
		var raw map[string]any
		json.Unmarshal(ev.Details, &raw)
		d := make(map[string]any, len(raw))
		for k, v := range raw {
			d[strings.ToLower(k[:1])+k[1:]] = v
		}
		detail := ""
		switch {
		case d["name"] != nil:
			detail = fmt.Sprint(d["name"])
		case d["error"] != nil:
			detail = fmt.Sprintf("%v: %v", d["error"], d["cause"])
		case d["resourceType"] != nil:
			detail = fmt.Sprintf("%v:%v", d["resourceType"], d["resource"])
		}
		if len(detail) > 100 {
			detail = detail[:97] + "..."
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", ev.ID, ev.PreviousID, ev.Timestamp.UTC().Format(time.RFC3339Nano), ev.Type, detail)
	}
	tw.Flush()
}

// flowShow is the status and history verbs of ops, ge and glue job.
func flowShow(ctx context.Context, env Env, noun string, f flow, verb, usage string, args []string) int {
	cmd := "elt " + noun + " " + verb
	def := "json"
	if strings.HasSuffix(verb, "history") {
		def = "table"
	}
	fs, tf := newTargetFlagSet(noun+" "+verb, usage, env, def)
	rest, code, done := parseTargetFlags(env, fs, tf, cmd, args, 1, nil)
	if done {
		return code
	}
	ref := ""
	if len(rest) == 1 {
		ref = rest[0]
	}
	t, code := openTargetOrReport(ctx, env, tf, cmd)
	if t == nil {
		return code
	}
	defer t.Close()
	if strings.HasSuffix(verb, "history") {
		return showHistory(ctx, env, t, f, ref, tf.output, cmd)
	}
	return showExecution(ctx, env, t, f, ref, tf.output, cmd)
}

// verbFunc runs one verb of a command on the arguments after the verb.
type verbFunc func(ctx context.Context, env Env, args []string) int

// runVerbs dispatches `elt NOUN VERB ARGS...`: no verb is a usage error,
// help prints the usage, an unknown verb is a usage error.
func runVerbs(ctx context.Context, env Env, noun, usage string, args []string, verbs map[string]verbFunc) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stderr, "usage: %s\n", usage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if run, ok := verbs[args[0]]; ok {
		return run(ctx, env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "elt %s: unknown verb %q\n\nusage: %s\n", noun, args[0], usage)
	return ExitUsage
}

// showVerbs are a workflow's status and history verbs under the given
// names (status/history, or job-status/job-history).
func showVerbs(noun, usage string, f flow, status, history string) map[string]verbFunc {
	verb := func(v string) verbFunc {
		return func(ctx context.Context, env Env, args []string) int {
			return flowShow(ctx, env, noun, f, v, usage, args)
		}
	}
	return map[string]verbFunc{status: verb(status), history: verb(history)}
}

// newTargetFlagSet is a flag set with the target flags registered.
func newTargetFlagSet(name, usage string, env Env, defaultOutput string) (*flag.FlagSet, *targetFlags) {
	fs := newFlagSet(name, usage, env)
	tf := &targetFlags{}
	tf.register(fs, env, defaultOutput)
	return fs, tf
}

// parseTargetFlags parses args and checks the target flags, then check
// (when given), and that at most maxArgs positional arguments remain. On a
// usage error it prints the error and the usage; done is true when the
// command should return code at once.
func parseTargetFlags(env Env, fs *flag.FlagSet, tf *targetFlags, cmd string, args []string, maxArgs int, check func() error) (rest []string, code int, done bool) {
	rest, code, done = parseFlags(fs, args)
	if done {
		return nil, code, true
	}
	err := tf.check()
	if err == nil && check != nil {
		err = check()
	}
	if err != nil || len(rest) > maxArgs {
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		}
		fs.Usage()
		return nil, ExitUsage, true
	}
	return rest, 0, false
}

// openTargetOrReport is openTarget that reports a failure on stderr: a nil
// target comes with the exit code to return.
func openTargetOrReport(ctx context.Context, env Env, tf *targetFlags, cmd string) (*target, int) {
	t, err := openTarget(ctx, env, tf, cmd)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return nil, ExitFailure
	}
	return t, ExitOK
}

// ------------------------------------------------ one-partition start verbs

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

// partitionStart is a verb that runs a workflow over one partition
// (--record-type, --dt) and by default waits for it: `elt ge start`, `elt
// glue job-start`.
type partitionStart struct {
	noun, verb string // "ge", "start"
	usage      string
	flow       flow
	namePrefix string // default execution names: PREFIX-<type>-<dt>-<time>-<random>
	prefixFlag string // the flag naming where the workflow writes (e.g. result-prefix)
	prefixHelp string
	waitHelp   string // --wait's help
	// input is the execution input; prefix is the prefix flag's value.
	input func(t *target, recordType, dt, prefix string) map[string]any
}

func (p partitionStart) run(ctx context.Context, env Env, args []string) int {
	cmd := "elt " + p.noun + " " + p.verb
	fs, tf := newTargetFlagSet(p.noun+" "+p.verb, p.usage, env, "json")
	recordType := fs.String("record-type", "", "record type of the partition (required)")
	dt := fs.String("dt", "", "partition date YYYY-MM-DD (required)")
	prefix := fs.String(p.prefixFlag, "", p.prefixHelp)
	name := fs.String("name", "", "execution name (default: "+p.namePrefix+"-<type>-<dt>-<time>-<random>)")
	wait := fs.Bool("wait", true, p.waitHelp)
	_, code, done := parseTargetFlags(env, fs, tf, cmd, args, 0, func() error { return checkPartition(*recordType, *dt) })
	if done {
		return code
	}
	t, code := openTargetOrReport(ctx, env, tf, cmd)
	if t == nil {
		return code
	}
	defer t.Close()
	b, _ := json.Marshal(p.input(t, *recordType, *dt, *prefix))
	if *name == "" {
		*name = partitionName(p.namePrefix, *recordType, *dt, time.Now())
	}
	return startExecution(ctx, env, t, startOpts{flow: p.flow, name: *name, input: b, wait: *wait, cmd: cmd, tf: tf})
}
