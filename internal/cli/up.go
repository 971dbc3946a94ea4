package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/orchestrator"
	"github.com/serverless-elt/elt/internal/rules"
	"github.com/serverless-elt/elt/internal/schedule"
)

const upUsage = `elt up [--data-dir D] [--schedules FILE] [-v]

Runs the embedded pipeline until interrupted (Ctrl-C):
  - the hot path: scans the bronze prefix for new objects (uploaded with
    'elt bronze add' or dropped into <data-dir>/store/bronze/bronze/ by
    hand), ingests them, and transforms queued work into silver Parquet;
  - the workflows, on the local Step Functions engine (executions in
    <data-dir>/sfn/), with the Step Functions API served on 127.0.0.1; its
    URL is in <data-dir>/sfn/endpoint while 'elt up' runs, and 'elt ops|ge|
    glue' use it;
  - rules: bus events the transform emits are matched against event
    patterns; PartitionReady starts the quality gate for the partition
    (execution qg-<type>-<dt>-<hash of the files>, one run per partition
    at a time; a duplicate event is a no-op);
  - schedules: rate(...)/cron(...) schedules start workflows (the daily ops
    replay is off until enabled).
Rules and schedules come from --schedules (default <data-dir>/schedules.json,
optional; see the README, "Schedules and rules").

On Ctrl-C, executions still running are stopped as StopExecution would
(ABORTED, error elt.Shutdown); executions left RUNNING by a process that
was killed are closed ABORTED (elt.ProcessExited) when 'elt up' starts.`

// Errors recorded on executions 'elt up' closes.
const (
	errShutdown    = "elt.Shutdown"
	errProcessGone = "elt.ProcessExited"
)

func runUp(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("up", upUsage, env)
	var sf stackFlags
	sf.register(fs, env)
	schedPath := fs.String("schedules", "", "schedules and rules file (default <data-dir>/schedules.json)")
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 {
		fs.Usage()
		return ExitUsage
	}
	cfg := sf.config(env).WithDefaults()
	log := cfg.Log
	if *schedPath == "" {
		*schedPath = filepath.Join(cfg.DataDir, "schedules.json")
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "elt up: %v\n", err)
		return ExitFailure
	}

	// Rules and schedules: a broken file stops us before anything starts.
	opsInput, _ := json.Marshal(scheduledOpsInput(cfg))
	rc, err := rules.LoadConfig(*schedPath, rules.DefaultConfig(opsInput))
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt up: %v\n", err)
		return ExitUsage
	}

	// Workflows: the data dir's engine, its API advertised to other commands.
	o, err := orchestrator.Open(ctx, orchestrator.Config{Stack: cfg, Log: log})
	if err != nil {
		return fail(err)
	}
	defer o.Close()
	e := o.Engine()

	built, err := rc.Build(rules.EngineExecutions{Engine: e}, filepath.Join(cfg.DataDir, "rules", "pending"), cfg.SilverPrefix, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt up: %v\n", err)
		return ExitUsage
	}
	var stackRules []embedded.Rule
	for _, r := range built.Rules {
		stackRules = append(stackRules, embedded.Rule{Name: r.Name, Target: func(ctx context.Context, ev bus.Event) error {
			_, err := r.Deliver(ctx, ev)
			return err
		}})
	}
	sched, err := schedule.New(built.Schedules, schedule.Options{StatePath: filepath.Join(cfg.DataDir, "schedules.state.json"), Now: cfg.Now, Log: log})
	if err != nil {
		return fail(err)
	}

	// The hot path, with the rules on its bus.
	st, err := embedded.Open(ctx, cfg, stackRules...)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt up: %v\n", err)
		if fault.Is(err, fault.Transient) {
			fmt.Fprintf(env.Stderr, "elt up: is another elt (e.g. 'elt up') using %s? Only one process opens a data dir at a time.\n", cfg.DataDir)
		}
		return ExitFailure
	}
	defer st.Close()

	// Only now, holding the data dir's locks (a second 'elt up' fails
	// above), close what a killed process left running and advertise the API.
	if fsStore, ok := e.Store().(*engine.FileStore); ok {
		closed, err := fsStore.AbortOrphans(ctx, errProcessGone, "the process running the execution exited before it ended", time.Now())
		if err != nil {
			return fail(fmt.Errorf("close orphaned executions: %w", err))
		}
		for _, arn := range closed {
			fmt.Fprintf(env.Stderr, "elt up: %s was left running by a process that exited; closed ABORTED\n", arn)
		}
		requeueGates(ctx, env, e, built.QualityGate, closed)
	}
	endpoint, err := o.Serve(ctx)
	if err != nil {
		return fail(err)
	}

	fmt.Fprintf(env.Stderr, "elt up: watching s3://%s/%s in %s (Ctrl-C to stop)\n", cfg.BronzeBucket, cfg.BronzePrefix, cfg.DataDir)
	fmt.Fprintf(env.Stderr, "elt up: Step Functions API on %s\n", endpoint)
	for _, r := range built.Rules {
		fmt.Fprintf(env.Stderr, "elt up: rule %s\n", r.Name)
	}
	for _, s := range built.Schedules {
		fmt.Fprintf(env.Stderr, "elt up: schedule %s %s\n", s.Name, s.Schedule)
	}

	var wg sync.WaitGroup
	bg, stopBg := context.WithCancel(ctx)
	wg.Add(2)
	go func() {
		defer wg.Done()
		sched.Run(bg, cfg.Sleep, time.Minute)
	}()
	go func() {
		// Parked quality-gate events start once their partition's run ends.
		defer wg.Done()
		if built.QualityGate == nil {
			return
		}
		for {
			if _, err := built.QualityGate.Flush(bg); err != nil && bg.Err() == nil {
				log.Warn("rule.flush_failed", "err", err)
			}
			if cfg.Sleep(bg, 2*time.Second) != nil {
				return
			}
		}
	}()

	last := embedded.Progress{}
	err = st.Run(ctx, func(p embedded.Progress) {
		if p.Ingest.Claimed != last.Ingest.Claimed || p.Messages != last.Messages || p.Rules != last.Rules {
			fmt.Fprintf(env.Stderr, "elt up: %d objects ingested, %d messages processed, %d records read, %d rule targets invoked\n",
				p.Ingest.Claimed, p.Messages, p.Polls.Batch.Records, p.Rules)
			last = p
		}
	})
	stopBg()
	wg.Wait()
	stopped := stopRunning(e)
	for _, arn := range stopped {
		fmt.Fprintf(env.Stderr, "elt up: stopped %s (ABORTED)\n", arn)
	}
	requeueGates(context.WithoutCancel(ctx), env, e, built.QualityGate, stopped)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(env.Stderr, "elt up: stopped")
	return ExitOK
}

// stopRunning aborts the executions this process still runs, as
// StopExecution does (ABORTED, ExecutionAborted in the history): the local
// engine cannot resume an execution in another process, so a truthful
// final status is better than a RUNNING record nobody advances.
func stopRunning(e *engine.Engine) []string {
	arns := e.RunningExecutions()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, arn := range arns {
		e.StopExecution(ctx, arn, errShutdown, "elt up stopped while the execution was running")
	}
	return arns
}

// requeueGates parks a fresh quality-gate run for each partition whose
// run was aborted because a process stopped, so it is gated after all
// (started by the rule's flush once nothing runs for the partition).
func requeueGates(ctx context.Context, env Env, e *engine.Engine, q *rules.QualityGate, arns []string) {
	if q == nil {
		return
	}
	for _, arn := range arns {
		x, err := e.Store().GetExecution(ctx, arn)
		if err != nil {
			continue
		}
		if ok, err := q.Requeue(x); err != nil {
			fmt.Fprintf(env.Stderr, "elt up: requeue the quality gate of %s: %v\n", arn, err)
		} else if ok {
			fmt.Fprintf(env.Stderr, "elt up: the quality gate of %s will run again\n", x.Name)
		}
	}
}

// scheduledOpsInput is the ops workflow input of the default daily
// schedule: the manual default, its copies under replay/scheduled/.
func scheduledOpsInput(cfg embedded.Config) map[string]any {
	in := defaultOpsInput(cfg)
	if base, ok := in["dest_prefix_base"].(string); ok {
		in["dest_prefix_base"] = path.Join(path.Dir(base), "scheduled")
	}
	return in
}
