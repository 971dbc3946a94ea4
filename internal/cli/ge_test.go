package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/notify/localnotify"
	"github.com/serverless-elt/elt/internal/orchestrator"
)

// The quality gate through elt ge start: a partition with planted
// violations fails (exit 1) and leaves a GE result, a quarantine marker and
// a notification; a clean partition passes (exit 0). status and history
// (other commands) read the persisted executions.
func TestGeStartPassFail(t *testing.T) {
	dir := t.TempDir()
	seedSilver(t, dir, "shipments", 400, "2025-02-01", 1)
	seedSilver(t, dir, "shipments", 400, "2025-02-02", 1, "--violations", "0.05", "--seed", "7")
	silver := filepath.Join(dir, "store", "silver")

	code, out, stderr := opsCLI(t, "ge", "start", "--record-type", "shipments", "--dt", "2025-02-02", "--name", "ge-bad", "--data-dir", dir)
	if code != ExitFailure {
		t.Fatalf("violations: exit %d, want %d\n%s\n%s", code, ExitFailure, out, stderr)
	}
	x := decodeExecution(t, out)
	if x.Status != "FAILED" || x.Error != "Quality.ExpectationsFailed" {
		t.Fatalf("execution %+v", x)
	}
	results, _ := filepath.Glob(filepath.Join(silver, "ge", "results", "shipments", "dt=2025-02-02", "*.json"))
	if len(results) != 1 {
		t.Fatalf("GE results %v", results)
	}
	if b, err := os.ReadFile(results[0]); err != nil || !strings.Contains(string(b), `"success": false`) && !strings.Contains(string(b), `"success":false`) {
		t.Fatalf("GE result %s: %v\n%.400s", results[0], err, b)
	}
	if _, err := os.Stat(filepath.Join(silver, "ge", "quarantine", "shipments", "dt=2025-02-02", "marker.json")); err != nil {
		t.Fatalf("quarantine marker: %v", err)
	}
	ob, _ := localnotify.New(orchestrator.OutboxPath(dir), localnotify.Options{})
	ns, err := ob.List(context.Background())
	if err != nil || len(ns) != 1 || !strings.Contains(ns[0].Message+ns[0].Subject, "shipments") {
		t.Fatalf("outbox %+v, %v", ns, err)
	}

	code, out, stderr = opsCLI(t, "ge", "start", "--record-type", "shipments", "--dt", "2025-02-01", "--data-dir", dir, "--output", "table")
	if code != ExitOK || !strings.Contains(out, "SUCCEEDED") {
		t.Fatalf("clean partition: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(silver, "ge", "quarantine", "shipments", "dt=2025-02-01")); !os.IsNotExist(err) {
		t.Fatalf("clean partition quarantined: %v", err)
	}
	if ns, _ := ob.List(context.Background()); len(ns) != 1 {
		t.Fatalf("a passing gate notified: %+v", ns)
	}

	// The latest execution is the clean one; the failed one by name.
	if code, out, stderr := opsCLI(t, "ge", "status", "--data-dir", dir); code != ExitOK || decodeExecution(t, out).Status != "SUCCEEDED" {
		t.Fatalf("ge status: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := opsCLI(t, "ge", "status", "ge-bad", "--data-dir", dir); code != ExitFailure || decodeExecution(t, out).Status != "FAILED" {
		t.Fatalf("ge status ge-bad: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := opsCLI(t, "ge", "history", "ge-bad", "--data-dir", dir); code != ExitOK || !strings.Contains(out, "RunQuality") || !strings.Contains(out, "ExecutionFailed") {
		t.Fatalf("ge history: exit %d\n%s\n%s", code, out, stderr)
	}
	// A partition with no data is an error of the run, not a verdict.
	if code, out, stderr := opsCLI(t, "ge", "start", "--record-type", "shipments", "--dt", "2025-02-09", "--data-dir", dir); code != ExitFailure || !strings.Contains(out, "PartitionNotFound") {
		t.Fatalf("empty partition: exit %d\n%s\n%s", code, out, stderr)
	}
}
