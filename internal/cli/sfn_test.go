package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sfnCLI(t *testing.T, dataDir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "ELT_DATA_DIR" {
				return dataDir
			}
			return ""
		}}
	code := Run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const engineTestdata = "../../asl/engine/testdata/"

func TestSfnRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ok := writeFile(t, dir, "ok.asl.json", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"P"},"P":{"Type":"Pass","Parameters":{"msg.$":"States.Format('hi {}', $.who)"},"End":true}}}`)
	fail := writeFile(t, dir, "fail.asl.json", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"as designed"}}}`)
	invalid := writeFile(t, dir, "invalid.asl.json", `{"StartAt":"Missing","States":{"P":{"Type":"Pass","End":true}}}`)
	placeholder := writeFile(t, dir, "ph.asl.json", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"bucket":"${bucket}"},"End":true}}}`)
	input := writeFile(t, dir, "in.json", `{"who":"file"}`)

	cases := []struct {
		name   string
		args   []string
		code   int
		status string
		output string
	}{
		{"succeeded, virtual time: an hour's Wait costs nothing", []string{"sfn", "run", "--definition", ok, "--input", `{"who":"you"}`}, ExitOK, "SUCCEEDED", `{"msg":"hi you"}`},
		{"input from a file", []string{"sfn", "run", "--definition", ok, "--input", "@" + input, "--name", "from-file"}, ExitOK, "SUCCEEDED", `{"msg":"hi file"}`},
		{"placeholders", []string{"sfn", "run", "--definition", placeholder, "--var", "bucket=silver"}, ExitOK, "SUCCEEDED", `{"bucket":"silver"}`},
		{"real time", []string{"sfn", "run", "--definition", placeholder, "--var", "bucket=b", "--real-time"}, ExitOK, "SUCCEEDED", `{"bucket":"b"}`},
		{"failed", []string{"sfn", "run", "--definition", fail}, ExitFailure, "FAILED", ""},
		{"invalid definition", []string{"sfn", "run", "--definition", invalid}, ExitUsage, "", ""},
		{"no definition", []string{"sfn", "run"}, ExitUsage, "", ""},
		{"missing file", []string{"sfn", "run", "--definition", filepath.Join(dir, "nope.json")}, ExitUsage, "", ""},
		{"bad input", []string{"sfn", "run", "--definition", ok, "--input", "{nope"}, ExitUsage, "", ""},
		{"test case without mock config", []string{"sfn", "run", "--definition", ok, "--test-case", "x"}, ExitUsage, "", ""},
		{"unknown verb", []string{"sfn", "frobnicate"}, ExitUsage, "", ""},
		{"help", []string{"sfn", "--help"}, ExitOK, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := sfnCLI(t, data, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, c.code, stdout, stderr)
			}
			if c.status == "" {
				return
			}
			var x ExecutionJSON
			if err := json.Unmarshal([]byte(stdout), &x); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			if x.Status != c.status || x.Output != c.output || !strings.HasPrefix(x.ExecutionArn, "arn:aws:states:") || x.StartDate == "" || x.StopDate == "" {
				t.Fatalf("%+v", x)
			}
			if c.status == "FAILED" && (x.Error != "Nope" || x.Cause != "as designed") {
				t.Fatalf("%+v", x)
			}
		})
	}
	// Names are unique per state machine.
	if code, _, stderr := sfnCLI(t, data, "sfn", "run", "--definition", ok, "--name", "from-file"); code != ExitFailure || !strings.Contains(stderr, "ExecutionAlreadyExists") {
		t.Fatalf("duplicate name: %d %s", code, stderr)
	}
}

// The developer guide's mock configuration file drives `elt sfn run`, and
// history/describe read the execution back from the data directory.
func TestSfnRunWithMockConfigAndHistory(t *testing.T) {
	data := t.TempDir()
	code, stdout, stderr := sfnCLI(t, data, "sfn", "run", "--definition", engineTestdata+"aws-lambda-sqs.asl.json",
		"--mock-config", engineTestdata+"aws-mock-config.json", "--test-case", "RetryPath", "--state-machine", "LambdaSQSIntegration", "--name", "retry")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var x ExecutionJSON
	json.Unmarshal([]byte(stdout), &x)
	if x.Output != `{"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}` {
		t.Fatalf("%+v", x)
	}
	code, table, stderr := sfnCLI(t, data, "sfn", "history", x.ExecutionArn)
	if code != ExitOK || strings.Count(table, "TaskFailed") != 3 || !strings.Contains(table, "Lambda.TimeoutException") || !strings.Contains(table, "ExecutionSucceeded") {
		t.Fatalf("history table (exit %d):\n%s\n%s", code, table, stderr)
	}
	code, js, _ := sfnCLI(t, data, "sfn", "history", x.ExecutionArn, "--output", "json")
	var h struct {
		Events []struct {
			ID                       int64          `json:"id"`
			Type                     string         `json:"type"`
			StateEnteredEventDetails map[string]any `json:"stateEnteredEventDetails"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(js), &h); err != nil || code != ExitOK || h.Events[1].Type != "TaskStateEntered" || h.Events[1].StateEnteredEventDetails["name"] != "LambdaState" {
		t.Fatalf("history json: %v\n%s", err, js)
	}
	code, desc, _ := sfnCLI(t, data, "sfn", "describe", x.ExecutionArn)
	if code != ExitOK || !strings.Contains(desc, `"status": "SUCCEEDED"`) {
		t.Fatalf("describe: %s", desc)
	}
	if code, _, _ := sfnCLI(t, data, "sfn", "history", "arn:aws:states:us-east-1:000000000000:execution:LambdaSQSIntegration:nope"); code != ExitFailure {
		t.Fatalf("missing execution: exit %d", code)
	}
	if code, _, _ := sfnCLI(t, data, "sfn", "run", "--definition", engineTestdata+"aws-lambda-sqs.asl.json",
		"--mock-config", engineTestdata+"aws-mock-config.json", "--test-case", "NoSuchCase"); code != ExitUsage {
		t.Fatalf("unknown test case: exit %d", code)
	}
}

func TestSfnServeRefusesNonLoopback(t *testing.T) {
	code, _, stderr := sfnCLI(t, t.TempDir(), "sfn", "serve", "--addr", "0.0.0.0:8083")
	if code != ExitUsage || !strings.Contains(stderr, "loopback") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// Every generated workflow runs end to end under `elt sfn run` with its
// mock configuration (asl/engine/testdata/workflows/<name>.mock.json),
// every test case, on the virtual clock (no sleeping), and ends as
// <name>.expect.json says.
func TestSfnRunWorkflowsWithMocks(t *testing.T) {
	defs, err := filepath.Glob("../../workflows/*.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) == 0 {
		t.Fatal("no workflows/*.asl.json found")
	}
	for _, def := range defs {
		name := stateMachineName(def)
		t.Run(name, func(t *testing.T) {
			base := engineTestdata + "workflows/" + name
			if _, err := os.Stat(base + ".mock.json"); err != nil {
				t.Fatalf("workflow %s has no mock configuration %s.mock.json: add one (and .input.json, .expect.json) so it runs end to end", name, base)
			}
			var expect map[string]struct {
				Status  string   `json:"status"`
				Error   string   `json:"error"`
				Seconds *float64 `json:"seconds"`
			}
			b, err := os.ReadFile(base + ".expect.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &expect); err != nil {
				t.Fatal(err)
			}
			for tc, want := range expect {
				t.Run(tc, func(t *testing.T) {
					// Each case gets its own data dir, seeded from
					// <base>.seed/<case>/<bucket>/<key> when that exists: a
					// file in the store's folder counts as an upload, so a
					// Distributed Map's ItemReader lists it and the mocked
					// tasks inside the Map run (Step Functions Local mocks
					// tasks, not the listing).
					data := t.TempDir()
					seedStore(t, base+".seed/"+tc, filepath.Join(data, "store"))
					code, stdout, stderr := sfnCLI(t, data, "sfn", "run", "--definition", def, "--mock-config", base+".mock.json",
						"--test-case", tc, "--input", "@"+base+".input.json", "--name", tc)
					var x ExecutionJSON
					if err := json.Unmarshal([]byte(stdout), &x); err != nil {
						t.Fatalf("exit %d, stdout not JSON: %v\n%s\n%s", code, err, stdout, stderr)
					}
					wantCode := ExitOK
					if want.Status != "SUCCEEDED" {
						wantCode = ExitFailure
					}
					if code != wantCode || x.Status != want.Status || x.Error != want.Error {
						t.Fatalf("exit %d status %s error %q cause %q; want %s %q", code, x.Status, x.Error, x.Cause, want.Status, want.Error)
					}
					if want.Seconds != nil {
						start, _ := time.Parse(time.RFC3339Nano, x.StartDate)
						stop, _ := time.Parse(time.RFC3339Nano, x.StopDate)
						if got := stop.Sub(start).Seconds(); got != *want.Seconds {
							t.Errorf("took %v virtual seconds, want %v", got, *want.Seconds)
						}
					}
				})
			}
		})
	}
}

// seedStore copies the tree under dir (if any) into the object store's
// folder, keeping relative paths (<bucket>/<key>).
func seedStore(t *testing.T, dir, store string) {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(store, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatalf("seed %s: %v", dir, err)
	}
}

func TestRegisterWorkflows(t *testing.T) {
	data := t.TempDir()
	e, closeFn, err := sfnEngine(data, nil, nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var log bytes.Buffer
	for i := 0; i < 2; i++ { // the second time finds them registered
		if err := registerWorkflows(context.Background(), e, "../../workflows", &log); err != nil {
			t.Fatal(err)
		}
	}
	sms, err := e.Store().ListStateMachines(context.Background())
	if err != nil || len(sms) == 0 || sms[0].Name == "" {
		t.Fatalf("%v %+v", err, sms)
	}
	if strings.Count(log.String(), "registered") != len(sms) {
		t.Fatalf("log %q for %d machines", log.String(), len(sms))
	}
	if err := registerWorkflows(context.Background(), e, t.TempDir(), &log); err == nil {
		t.Fatal("empty directory accepted")
	}
}
