package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
)

const sfnStopUsage = `elt sfn stop EXECUTION_ARN [--error NAME] [--cause TEXT] [--timeout 30s] [--data-dir D]

Stops a running execution as the StopExecution API does: it ends ABORTED
with an ExecutionAborted history event carrying the error and cause. The
execution may run in another process on the same data dir ('elt up', 'elt
sfn serve', 'elt ops start'): that process's engine sees the stop request
and aborts it; an execution whose process is gone is closed here. Prints
the execution's DescribeExecution JSON. Exit codes: 0 stopped (or already
ended), 1 not found or the running process did not stop it in time, 2 bad usage.`

func sfnStop(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("sfn stop", sfnStopUsage, env)
	errName := fs.String("error", "", "error code recorded on the aborted execution")
	cause := fs.String("cause", "", "cause recorded on the aborted execution")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the process running the execution")
	dataDir := dataDirFlag(fs, env)
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitUsage
	}
	arn := rest[0]
	if _, _, err := engine.ParseExecutionArn(arn); err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn stop: %v\n", err)
		return ExitUsage
	}
	e := engine.New(engine.Options{
		Store:  &engine.FileStore{Dir: filepath.Join(*dataDir, "sfn")},
		Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	sctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if _, err := e.StopExecution(sctx, arn, *errName, *cause); err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn stop: %v\n", err)
		return ExitFailure
	}
	x, err := e.Store().GetExecution(ctx, arn)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn stop: %v\n", err)
		return ExitFailure
	}
	if err := writeJSON(env.Stdout, executionJSON(x)); err != nil {
		return ExitFailure
	}
	return ExitOK
}
