package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/notify/localnotify"
	"github.com/serverless-elt/elt/internal/orchestrator"
	"github.com/serverless-elt/elt/workflows"
)

// runCLI runs one command line and returns its exit code and streams.
func opsCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("")}, args)
	return code, out.String(), errb.String()
}

func decodeExecution(t *testing.T, s string) ExecutionJSON {
	t.Helper()
	var x ExecutionJSON
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		t.Fatalf("output is not an execution: %v\n%s", err, s)
	}
	return x
}

// An execution started by one command is seen by status and history run
// afterwards (another cli.Run: nothing kept in memory), and its failure
// notification is in the data dir's one outbox.
func TestOpsStartStatusHistoryPersist(t *testing.T) {
	dir := t.TempDir()
	// An input the ops workflow's schema refuses: the workflow fails in
	// ValidateInput and notifies, whatever the other tasks do.
	code, out, stderr := opsCLI(t, "ops", "start", "--data-dir", dir, "--name", "bad-input", "--input", `{"bronze_bucket":"b"}`, "--settle", "0")
	if code != ExitFailure {
		t.Fatalf("ops start exit %d, want %d\n%s\n%s", code, ExitFailure, out, stderr)
	}
	x := decodeExecution(t, out)
	if x.Status != "FAILED" || x.Name != "bad-input" || !strings.Contains(x.Error, "InvalidInput") {
		t.Fatalf("execution %+v", x)
	}

	code, out, stderr = opsCLI(t, "ops", "status", "--data-dir", dir)
	if code != ExitFailure {
		t.Fatalf("ops status exit %d\n%s", code, stderr)
	}
	if got := decodeExecution(t, out); got.ExecutionArn != x.ExecutionArn || got.Status != "FAILED" || got.StopDate == "" {
		t.Fatalf("status %+v, want %s FAILED", got, x.ExecutionArn)
	}
	code, out, stderr = opsCLI(t, "ops", "history", "bad-input", "--data-dir", dir, "--output", "json")
	if code != ExitOK {
		t.Fatalf("ops history exit %d\n%s", code, stderr)
	}
	var h struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Events); n < 3 || h.Events[0].Type != "ExecutionStarted" || h.Events[n-1].Type != "ExecutionFailed" {
		t.Fatalf("history %+v", h.Events)
	}
	code, out, _ = opsCLI(t, "ops", "history", "--data-dir", dir)
	if code != ExitOK || !strings.Contains(out, "TaskFailed") || !strings.Contains(out, "ValidateInput") {
		t.Fatalf("history table (exit %d):\n%s", code, out)
	}

	ob, err := localnotify.New(orchestrator.OutboxPath(dir), localnotify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := ob.List(context.Background())
	if err != nil || len(ns) != 1 || !strings.Contains(ns[0].Message, x.ExecutionArn) {
		t.Fatalf("outbox %+v, %v; want one notification naming %s", ns, err, x.ExecutionArn)
	}

	// Names are unique per state machine, as on AWS: a reused one is refused.
	code, _, stderr = opsCLI(t, "ops", "start", "--data-dir", dir, "--name", "bad-input", "--input", `{}`)
	if code != ExitUsage || !strings.Contains(stderr, "ExecutionAlreadyExists") {
		t.Fatalf("reused name: exit %d\n%s", code, stderr)
	}
}

func TestOpsGeGlueUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"ops"}, ExitUsage, "elt ops start"},
		{[]string{"ops", "--help"}, ExitOK, "elt ops start"},
		{[]string{"ops", "start", "--help"}, ExitOK, "-target"},
		{[]string{"ops", "frob"}, ExitUsage, "unknown verb"},
		{[]string{"ops", "start", "--input", "{", "--data-dir", dir}, ExitUsage, "not valid JSON"},
		{[]string{"ops", "start", "--input", "@" + filepath.Join(dir, "missing.json"), "--data-dir", dir}, ExitUsage, "missing.json"},
		{[]string{"ops", "start", "--target", "gcp", "--data-dir", dir}, ExitUsage, "embedded or aws"},
		{[]string{"ops", "status", "--data-dir", dir}, ExitFailure, "no executions"},
		{[]string{"ops", "status", "--output", "yaml", "--data-dir", dir}, ExitUsage, "json or table"},
		{[]string{"ge", "start", "--record-type", "shipments", "--data-dir", dir}, ExitUsage, "--dt"},
		{[]string{"ge", "start", "--record-type", "shipments", "--dt", "2024-02-30", "--data-dir", dir}, ExitUsage, "--dt"},
		{[]string{"ge", "start", "--record-type", "Ship ments", "--dt", "2024-02-03", "--data-dir", dir}, ExitUsage, "--record-type"},
		{[]string{"ge", "--help"}, ExitOK, "elt ge start"},
		{[]string{"glue", "--help"}, ExitOK, "crawler-start"},
		{[]string{"glue", "job-start", "--dt", "2024-01-01", "--data-dir", dir}, ExitUsage, "--record-type"},
		{[]string{"glue", "crawler-status", "--data-dir", dir}, ExitFailure, "has not run"},
	} {
		code, _, stderr := opsCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q in stderr:\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
	}
}

// A running `elt up` (here: an orchestrator serving and advertising the
// data dir's endpoint) gets the execution; the command only follows it.
func TestOpsStartDelegatesToAdvertisedEndpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, err := orchestrator.Open(ctx, orchestrator.Config{Stack: embedded.Config{DataDir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ep, err := o.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := opsCLI(t, "ops", "start", "--data-dir", dir, "--name", "via-up", "--input", `{}`, "--wait")
	if code != ExitFailure || !strings.Contains(stderr, ep) {
		t.Fatalf("exit %d, want %d and the endpoint %s named:\n%s\n%s", code, ExitFailure, ep, out, stderr)
	}
	// The execution ran in the serving engine's process.
	x, err := o.Engine().Store().GetExecution(ctx, engine.ExecutionArn(workflows.OpsName, "via-up"))
	if err != nil || x.Status != "FAILED" {
		t.Fatalf("execution in the serving engine: %+v, %v", x, err)
	}
	// A stale endpoint file (its process gone) is ignored.
	o.Close()
	if err := os.WriteFile(orchestrator.EndpointPath(dir), []byte("http://127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = opsCLI(t, "ops", "status", "via-up", "--data-dir", dir)
	if code != ExitFailure || strings.Contains(stderr, "127.0.0.1:1") {
		t.Fatalf("stale endpoint: exit %d\n%s", code, stderr)
	}
}

// --target aws uses the same client against "AWS": here the local
// endpoint stands in (--endpoint-url), and the state machine ARNs come from
// a saved `terraform output -json` (--tf-outputs) instead of terraform.
func TestOpsTargetAWS(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	awsDir := t.TempDir()
	o, err := orchestrator.Open(ctx, orchestrator.Config{Stack: embedded.Config{DataDir: awsDir}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ep, err := o.ServePrivate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	writeOutputs := func(m map[string]string) {
		t.Helper()
		doc := map[string]any{}
		for k, v := range m {
			doc[k] = map[string]any{"value": v, "type": "string", "sensitive": false}
		}
		b, _ := json.Marshal(doc)
		if err := os.WriteFile(outputs, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeOutputs(map[string]string{
		"region": "eu-west-1", "bronze_bucket": "acme-bronze", "silver_bucket": "acme-silver",
		"ops_state_machine_arn": engine.StateMachineArn(workflows.OpsName),
	})
	local := t.TempDir() // the embedded data dir must stay untouched
	aws := []string{"--target", "aws", "--tf-outputs", outputs, "--endpoint-url", ep, "--data-dir", local}

	code, out, stderr := opsCLI(t, append([]string{"ops", "start", "--name", "on-aws", "--wait"}, aws...)...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	x := decodeExecution(t, out)
	// The default input names the deployed buckets, and the stand-in's
	// (empty) bronze bucket has nothing to replay.
	if x.Name != "on-aws" || x.Status != "SUCCEEDED" || !strings.Contains(x.Input, `"acme-bronze"`) || !strings.Contains(x.Input, `"acme-silver"`) ||
		!strings.Contains(x.Output, "nothing to replay") {
		t.Fatalf("execution %+v", x)
	}
	code, out, _ = opsCLI(t, append([]string{"ops", "status", "on-aws"}, aws...)...)
	if got := decodeExecution(t, out); code != ExitOK || got.ExecutionArn != x.ExecutionArn || got.Status != "SUCCEEDED" {
		t.Fatalf("status exit %d: %+v", code, got)
	}
	code, out, _ = opsCLI(t, append([]string{"ops", "history"}, aws...)...)
	if code != ExitOK || !strings.Contains(out, "ExecutionSucceeded") {
		t.Fatalf("history exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(local, "sfn")); !os.IsNotExist(err) {
		t.Fatalf("--target aws touched the embedded data dir: %v", err)
	}

	// A workflow whose output is missing is a clear error.
	code, _, stderr = opsCLI(t, append([]string{"ge", "start", "--record-type", "shipments", "--dt", "2024-01-01"}, aws...)...)
	if code != ExitFailure || !strings.Contains(stderr, "quality_gate_state_machine_arn") {
		t.Fatalf("missing output: exit %d\n%s", code, stderr)
	}
	code, _, stderr = opsCLI(t, "ops", "status", "--target", "aws", "--tf-outputs", filepath.Join(t.TempDir(), "missing.json"))
	if code != ExitFailure || !strings.Contains(stderr, "Terraform outputs") {
		t.Fatalf("missing outputs file: exit %d\n%s", code, stderr)
	}
}

// The ops workflow end to end on the embedded default with the real
// tasks: the replay copies every seeded object, the hot path runs in this
// process while the workflow polls, and silver holds each record once.
func TestOpsStartReplaysThroughHotPath(t *testing.T) {
	dir := t.TempDir()
	seedSilver(t, dir, "shipments", 300, "2025-01-01", 2)
	before := silverFiles(t, dir)
	// An explicit window: with window_hours the window ends at the
	// execution's start second (exclusive), which an object uploaded in
	// the same second as a fast test run would miss.
	input := `{"bronze_bucket":"bronze","src_prefix":"bronze/","dest_prefix_base":"bronze/replay/test",` +
		`"start":"2000-01-01T00:00:00Z","end":"2100-01-01T00:00:00Z",` +
		`"silver_bucket":"silver","silver_prefix":"silver/","poll_interval_seconds":1,"max_attempts":30}`
	code, out, stderr := opsCLI(t, "ops", "start", "--data-dir", dir, "--name", "replay-1", "--input", input, "--settle", "0")
	if code != ExitOK {
		t.Fatalf("ops start: exit %d\n%s\n%s", code, out, stderr)
	}
	x := decodeExecution(t, out)
	var o struct {
		Poll struct {
			Payload struct {
				Ready    bool  `json:"ready"`
				Expected int   `json:"expected_objects"`
				Landed   int   `json:"landed_objects"`
				Rows     int64 `json:"rows"`
			} `json:"Payload"`
		} `json:"poll"`
	}
	if err := json.Unmarshal([]byte(x.Output), &o); err != nil {
		t.Fatalf("output %s: %v", x.Output, err)
	}
	if p := o.Poll.Payload; !p.Ready || p.Expected != 1 || p.Landed != 1 || p.Rows != 300 {
		t.Fatalf("poll %+v, want the one seeded object landed with its 300 rows; output %s", p, x.Output)
	}
	copies, _ := filepath.Glob(filepath.Join(dir, "store", "bronze", "bronze", "replay", "test", "replay-1", "shipments", "*"))
	if len(copies) != 1 {
		t.Fatalf("replay copies %v", copies)
	}
	// Same ETag, same silver keys: the replay rewrote the files, added none.
	if after := silverFiles(t, dir); !slices.Equal(after, before) {
		t.Fatalf("silver files changed:\nbefore %v\nafter  %v", before, after)
	}
	code, out, _ = opsCLI(t, "ops", "status", "replay-1", "--data-dir", dir, "--output", "table")
	if code != ExitOK || !strings.Contains(out, "SUCCEEDED") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
}

func silverFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	root := filepath.Join(dir, "store", "silver", "silver")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no silver files")
	}
	return files
}

// elt sfn run without a mock configuration runs the real tasks with the
// placeholders bound for embedded use: the ops workflow's validate_input
// really validates, and the failure notification reaches the outbox.
func TestSfnRunRealTasks(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join("..", "..", "workflows", "ops_replay_quality.asl.json")
	code, out, stderr := opsCLI(t, "sfn", "run", "--definition", def, "--state-machine", workflows.OpsName, "--input", `{"bronze_bucket":"b"}`, "--data-dir", dir)
	if code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	x := decodeExecution(t, out)
	if x.Error != "ValidateInput.InvalidInput" || !strings.Contains(x.Cause, "src_prefix") {
		t.Fatalf("execution %+v, want the real validate_input's verdict", x)
	}
	ob, _ := localnotify.New(orchestrator.OutboxPath(dir), localnotify.Options{})
	if ns, err := ob.List(context.Background()); err != nil || len(ns) != 1 {
		t.Fatalf("outbox %+v, %v", ns, err)
	}
}

// cancelOn cancels a context when a line containing marker is written.
type cancelOn struct {
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

// An interrupted in-process ops start closes its execution as ABORTED
// (the engine dies with the process) instead of leaving it RUNNING.
func TestOpsStartInterruptedAborts(t *testing.T) {
	dir := t.TempDir()
	seedSilver(t, dir, "shipments", 50, "2025-01-01", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{marker: "started arn:", cancel: cancel}
	var out bytes.Buffer
	input := `{"bronze_bucket":"bronze","src_prefix":"bronze/","dest_prefix_base":"bronze/replay/test",` +
		`"start":"2000-01-01T00:00:00Z","end":"2100-01-01T00:00:00Z",` +
		`"silver_bucket":"silver","silver_prefix":"silver/","poll_interval_seconds":3600,"max_attempts":2}`
	code := Run(ctx, Env{Stdout: &out, Stderr: stderr}, []string{"ops", "start", "--data-dir", dir, "--name", "cut", "--input", input, "--settle", "0"})
	if code != ExitFailure || !strings.Contains(stderr.buf.String(), "ABORTED") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), stderr.buf.String())
	}
	code, o, e := opsCLI(t, "ops", "status", "cut", "--data-dir", dir)
	if code != ExitFailure {
		t.Fatalf("status exit %d\n%s\n%s", code, o, e)
	}
	if x := decodeExecution(t, o); x.Status != "ABORTED" {
		t.Fatalf("status: %+v\n%s", x, e)
	}
}

func TestTerraformOutputsAndExecutionArn(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.json")
	doc := `{"region":{"value":"eu-west-1","type":"string"},"n":{"value":3},"list":{"value":["a"]},` +
		`"quality_gate_state_machine_arn":{"value":"arn:aws:states:eu-west-1:123456789012:stateMachine:elt-dev-quality-gate"}}`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	outs, err := terraformOutputs(context.Background(), "unused", file)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"region": "eu-west-1", "n": "3", "list": `["a"]`} {
		if outs[k] != want {
			t.Errorf("output %s = %q, want %q", k, outs[k], want)
		}
	}
	tg := &target{kind: "aws", outputs: outs}
	for _, tc := range []struct{ ref, want string }{
		{"run-1", "arn:aws:states:eu-west-1:123456789012:execution:elt-dev-quality-gate:run-1"},
		{"arn:aws:states:eu-west-1:1:execution:x:y", "arn:aws:states:eu-west-1:1:execution:x:y"},
	} {
		if got, err := tg.executionArn(qualityFlow, tc.ref); err != nil || got != tc.want {
			t.Errorf("executionArn(%s) = %q, %v; want %s", tc.ref, got, err, tc.want)
		}
	}
	if _, err := tg.executionArn(opsFlow, "run-1"); err == nil || !strings.Contains(err.Error(), "ops_state_machine_arn") {
		t.Errorf("missing output: %v", err)
	}
	if err := os.WriteFile(file, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := terraformOutputs(context.Background(), "terraform/envs/dev", file); err == nil || !strings.Contains(err.Error(), "tf-apply") {
		t.Errorf("empty outputs: %v", err)
	}
}
