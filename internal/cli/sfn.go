package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/asl/engine/mockconfig"
	"github.com/serverless-elt/elt/asl/engine/sfnlocal"
	"github.com/serverless-elt/elt/asl/validate"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/orchestrator"
	"github.com/serverless-elt/elt/internal/taskset"
)

const sfnUsage = `elt sfn run --definition FILE [--input JSON|@FILE] [--name NAME]
                [--mock-config FILE --test-case NAME] [--state-machine NAME]
                [--var KEY=VALUE ...] [--real-time] [--data-dir D]
       elt sfn history EXECUTION_ARN [--output text|json] [--data-dir D]
       elt sfn describe EXECUTION_ARN [--data-dir D]
       elt sfn stop EXECUTION_ARN [--error NAME] [--cause TEXT] [--data-dir D]
       elt sfn serve [--addr 127.0.0.1:8083] [--virtual-time] [--mock-config FILE]
                [--workflows DIR] [--data-dir D]

run executes one state machine on the local engine to its end and prints a
DescribeExecution-shaped JSON object. Time is virtual unless --real-time:
Wait states and retry back-off take no real time. Task states are answered
by the mock configuration (Step Functions Local format) and the built-in
service integrations (s3, sns, events, states) over the data directory.
${KEY} placeholders in the definition are replaced by --var values; without
--mock-config the tasks are the real ones (internal/taskset) over the data
dir, and the placeholders left are bound as the embedded orchestrator does
(${X_function_arn} -> task X, ${notification_topic_arn} -> the outbox).
Exit codes: 0 succeeded, 1 failed/timed out/aborted, 2 bad usage or an
invalid definition.

history prints an execution's events (a table, or GetExecutionHistory JSON).
describe prints an execution's DescribeExecution JSON.
stop aborts a running execution, also one another process runs.
serve runs the Step Functions API on a loopback address, for the AWS SDKs
and CLI with an endpoint override (aws --endpoint-url http://ADDR stepfunctions ...).
With --mock-config, StartExecution on "<state machine ARN>#<TestCase>" runs
that test case, as Step Functions Local does. --workflows registers every
DIR/*.asl.json (named after the file) that is not registered yet.`

// varFlags collects repeated --var KEY=VALUE flags.
type varFlags map[string]string

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	v[k] = val
	return nil
}

func runSfn(ctx context.Context, env Env, args []string) int {
	return runVerbs(ctx, env, "sfn", sfnUsage, args, map[string]verbFunc{
		"run":      sfnRun,
		"history":  func(ctx context.Context, env Env, args []string) int { return sfnShow(ctx, env, "history", args) },
		"describe": func(ctx context.Context, env Env, args []string) int { return sfnShow(ctx, env, "describe", args) },
		"serve":    sfnServe,
		"stop":     sfnStop,
	})
}

func dataDirFlag(fs *flag.FlagSet, env Env) *string {
	def := env.Getenv("ELT_DATA_DIR")
	if def == "" {
		def = ".elt-data"
	}
	return fs.String("data-dir", def, "data directory (env ELT_DATA_DIR); executions live in DIR/sfn")
}

// sfnEngine opens an engine over the data directory: executions in
// DIR/sfn, the object store in DIR/store, notifications in DIR/notify,
// events in DIR/bus. With realTasks, the real task handlers
// (internal/taskset) are registered, bound to the data dir's stack, so
// lambda:invoke tasks do real work; a test case of the mock configuration
// still answers from its mocks.
func sfnEngine(dataDir string, clock engine.Clock, mocks *mockconfig.Config, realTasks bool, log *slog.Logger) (*engine.Engine, func(), error) {
	deps, err := orchestrator.Deps(embedded.Config{DataDir: dataDir, Log: log}, log)
	if err != nil {
		return nil, nil, err
	}
	reg := engine.NewRegistry()
	if realTasks {
		if err := taskset.Register(reg, deps); err != nil {
			return nil, nil, err
		}
	}
	b, err := localbus.Open(orchestrator.BusPath(dataDir), localbus.Options{})
	if err != nil {
		return nil, nil, err
	}
	e := engine.New(engine.Options{
		Clock:    clock,
		Store:    &engine.FileStore{Dir: orchestrator.SfnDir(dataDir)},
		Tasks:    reg,
		Mocks:    mocks,
		Services: engine.Services{Objects: deps.Store, Notifier: deps.Notifier, Bus: b},
		Logger:   log,
	})
	return e, func() { b.Close() }, nil
}

// ExecutionJSON is what `elt sfn run` and `elt sfn describe` print: the
// DescribeExecution response, dates as RFC 3339.
type ExecutionJSON struct {
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	StartDate       string `json:"startDate"`
	StopDate        string `json:"stopDate,omitempty"`
	Input           string `json:"input"`
	Output          string `json:"output,omitempty"`
	Error           string `json:"error,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

func executionJSON(x engine.Execution) ExecutionJSON {
	j := ExecutionJSON{
		ExecutionArn: x.ExecutionArn, StateMachineArn: x.StateMachineArn, Name: x.Name, Status: x.Status,
		StartDate: x.StartDate.UTC().Format(time.RFC3339Nano), Input: x.Input, Error: x.Error, Cause: x.Cause,
	}
	if x.StopDate != nil {
		j.StopDate = x.StopDate.UTC().Format(time.RFC3339Nano)
	}
	if x.Output != nil {
		j.Output = *x.Output
	}
	return j
}

// stateMachineName derives a name from a definition file name:
// workflows/ops_replay.asl.json -> ops_replay.
func stateMachineName(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".asl.json", ".json", ".asl"} {
		if b, ok := strings.CutSuffix(base, ext); ok {
			return b
		}
	}
	return base
}

func sfnRun(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("sfn run", sfnUsage, env)
	defPath := fs.String("definition", "", "state machine definition file (ASL JSON)")
	input := fs.String("input", "{}", "execution input: JSON text, or @FILE")
	name := fs.String("name", "", "execution name (default: a UUID)")
	mockPath := fs.String("mock-config", "", "mock configuration file (Step Functions Local format)")
	testCase := fs.String("test-case", "", "test case of the mock configuration")
	smName := fs.String("state-machine", "", "state machine name (default: from the definition file name)")
	realTime := fs.Bool("real-time", false, "use the wall clock: Wait states and retries really wait")
	dataDir := dataDirFlag(fs, env)
	vars := varFlags{}
	fs.Var(vars, "var", "KEY=VALUE for a ${KEY} placeholder in the definition (repeatable)")
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 || *defPath == "" || (*testCase != "") != (*mockPath != "") {
		fmt.Fprintln(env.Stderr, "elt sfn run: --definition is required; --mock-config and --test-case go together")
		fs.Usage()
		return ExitUsage
	}
	def, err := os.ReadFile(*defPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn run: %v\n", err)
		return ExitUsage
	}
	for k, v := range vars {
		def = []byte(strings.ReplaceAll(string(def), "${"+k+"}", v))
	}
	if *mockPath == "" {
		// Real tasks: the deployment placeholders left are bound as the
		// embedded orchestrator binds them (${X_function_arn} -> task X,
		// the topic -> the local outbox); unknown ones stay as written.
		bind := orchestrator.Bindings(embedded.Config{DataDir: *dataDir})
		def, _ = orchestrator.Bind(def, func(p string) (string, bool) {
			if v, ok := bind(p); ok {
				return v, true
			}
			return "${" + p + "}", true
		})
	}
	if ps := validate.Definition(def); len(ps) > 0 {
		fmt.Fprintf(env.Stderr, "elt sfn run: %s is not a valid definition:\n", *defPath)
		for _, p := range ps {
			fmt.Fprintf(env.Stderr, "  %s\n", p)
		}
		return ExitUsage
	}
	m, err := engine.Compile(def)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn run: %s: %v\n", *defPath, err)
		return ExitUsage
	}
	in := *input
	if file, ok := strings.CutPrefix(in, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(env.Stderr, "elt sfn run: --input: %v\n", err)
			return ExitUsage
		}
		in = string(b)
	}
	if !json.Valid([]byte(in)) {
		fmt.Fprintln(env.Stderr, "elt sfn run: --input is not valid JSON")
		return ExitUsage
	}
	var mocks *mockconfig.Config
	if *mockPath != "" {
		if mocks, err = mockconfig.Load(*mockPath); err != nil {
			fmt.Fprintf(env.Stderr, "elt sfn run: %v\n", err)
			return ExitUsage
		}
	}
	if *smName == "" {
		*smName = stateMachineName(*defPath)
	}
	if mocks != nil {
		if _, err := mocks.TestCase(*smName, *testCase); err != nil {
			fmt.Fprintf(env.Stderr, "elt sfn run: %v\n", err)
			return ExitUsage
		}
	}
	var clock engine.Clock = &engine.VirtualClock{Epoch: time.Now().UTC().Truncate(time.Second)}
	if *realTime {
		clock = engine.RealClock{}
	}
	// Without a mock configuration the tasks are the real ones, bound to
	// the data dir's stack.
	e, closeFn, err := sfnEngine(*dataDir, clock, mocks, mocks == nil, slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn run: %v\n", err)
		return ExitFailure
	}
	defer closeFn()
	x, err := e.Execute(ctx, engine.StartInput{Machine: m, StateMachineName: *smName, Name: *name, Input: in, TestCase: *testCase})
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn run: %v\n", err)
		if errors.Is(err, engine.ErrInvalidName) || errors.Is(err, engine.ErrInvalidExecutionInput) {
			return ExitUsage
		}
		if x.ExecutionArn != "" {
			// Interrupted: the execution was aborted; say so on stdout too.
			writeJSON(env.Stdout, executionJSON(x))
		}
		return ExitFailure
	}
	if err := writeJSON(env.Stdout, executionJSON(x)); err != nil {
		return ExitFailure
	}
	if x.Status != engine.StatusSucceeded {
		return ExitFailure
	}
	return ExitOK
}

func sfnShow(ctx context.Context, env Env, verb string, args []string) int {
	fs := newFlagSet("sfn "+verb, sfnUsage, env)
	output := fs.String("output", "text", "history format: text or json")
	dataDir := dataDirFlag(fs, env)
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) != 1 || (*output != "text" && *output != "json") {
		fs.Usage()
		return ExitUsage
	}
	store := &engine.FileStore{Dir: filepath.Join(*dataDir, "sfn")}
	arn := rest[0]
	if verb == "describe" {
		x, err := store.GetExecution(ctx, arn)
		if err != nil {
			fmt.Fprintf(env.Stderr, "elt sfn describe: %v\n", err)
			return ExitFailure
		}
		if err := writeJSON(env.Stdout, executionJSON(x)); err != nil {
			return ExitFailure
		}
		return ExitOK
	}
	evs, err := store.History(ctx, arn)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn history: %v\n", err)
		return ExitFailure
	}
	if *output == "json" {
		if err := writeJSON(env.Stdout, map[string]any{"events": evs}); err != nil {
			return ExitFailure
		}
		return ExitOK
	}
	writeHistoryTable(env.Stdout, evs)
	return ExitOK
}

// writeHistoryTable prints one line per event: id, previous id, time,
// type and the most telling detail (state name, error, resource).
func writeHistoryTable(w io.Writer, evs []engine.Event) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREV\tTIMESTAMP\tTYPE\tDETAIL")
	for _, ev := range evs {
		detail := ""
		d := ev.Details
		switch {
		case d["name"] != nil && d["index"] != nil:
			detail = fmt.Sprintf("%v[%v]", d["name"], d["index"])
		case d["name"] != nil:
			detail = fmt.Sprint(d["name"])
		case d["error"] != nil:
			detail = fmt.Sprintf("%v: %v", d["error"], d["cause"])
		case d["resourceType"] != nil:
			detail = fmt.Sprintf("%v:%v", d["resourceType"], d["resource"])
		case d["resource"] != nil:
			detail = fmt.Sprint(d["resource"])
		}
		if len(detail) > 100 {
			detail = detail[:97] + "..."
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", ev.ID, ev.PreviousEventID, ev.Timestamp.UTC().Format(time.RFC3339Nano), ev.Type, detail)
	}
	tw.Flush()
}

func sfnServe(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("sfn serve", sfnUsage, env)
	addr := fs.String("addr", "127.0.0.1:8083", "loopback address to listen on")
	virtual := fs.Bool("virtual-time", false, "simulate time (Wait states finish at once)")
	mockPath := fs.String("mock-config", "", "mock configuration file (Step Functions Local format)")
	workflowsDir := fs.String("workflows", "", "register DIR/*.asl.json as state machines")
	dataDir := dataDirFlag(fs, env)
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 {
		fs.Usage()
		return ExitUsage
	}
	var clock engine.Clock = engine.RealClock{}
	if *virtual {
		clock = &engine.VirtualClock{Epoch: time.Now().UTC().Truncate(time.Second)}
	}
	var mocks *mockconfig.Config
	if *mockPath != "" {
		var err error
		if mocks, err = mockconfig.Load(*mockPath); err != nil {
			fmt.Fprintf(env.Stderr, "elt sfn serve: %v\n", err)
			return ExitUsage
		}
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	e, closeFn, err := sfnEngine(*dataDir, clock, mocks, true, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn serve: %v\n", err)
		return ExitFailure
	}
	defer closeFn()
	if *workflowsDir != "" {
		if err := registerWorkflows(ctx, e, *workflowsDir, env.Stderr); err != nil {
			fmt.Fprintf(env.Stderr, "elt sfn serve: %v\n", err)
			return ExitUsage
		}
	}
	l, err := sfnlocal.Listen(*addr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt sfn serve: %v\n", err)
		return ExitUsage
	}
	srv := &http.Server{Handler: &sfnlocal.Server{Engine: e, Log: log}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	fmt.Fprintf(env.Stderr, "elt sfn serve: Step Functions API on http://%s (data in %s)\n", l.Addr(), *dataDir)
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(env.Stderr, "elt sfn serve: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

// registerWorkflows registers each DIR/*.asl.json not registered yet, after
// validating it.
func registerWorkflows(ctx context.Context, e *engine.Engine, dir string, log io.Writer) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.asl.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no *.asl.json in %s", dir)
	}
	for _, f := range files {
		def, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if ps := validate.Definition(def); len(ps) > 0 {
			return fmt.Errorf("%s: %s", f, ps[0])
		}
		name := stateMachineName(f)
		rec := engine.StateMachineRecord{StateMachineArn: engine.StateMachineArn(name), Name: name, Definition: string(def), Type: "STANDARD", CreationDate: time.Now().UTC()}
		switch err := e.Store().PutStateMachine(ctx, rec); {
		case err == nil:
			fmt.Fprintf(log, "elt sfn serve: registered %s\n", rec.StateMachineArn)
		case errors.Is(err, engine.ErrStateMachineAlreadyExists):
		default:
			return err
		}
	}
	return nil
}
