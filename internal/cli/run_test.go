package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestStackCommandsUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"run"}, ExitUsage}, // --until-idle is required
		{[]string{"run", "--help"}, ExitOK},
		{[]string{"run", "--until-idle", "--output", "xml"}, ExitUsage},
		{[]string{"run", "--until-idle", "extra"}, ExitUsage},
		{[]string{"run", "--bogus"}, ExitUsage},
		{[]string{"up", "--help"}, ExitOK},
		{[]string{"up", "extra"}, ExitUsage},
		{[]string{"queue"}, ExitUsage},
		{[]string{"queue", "--help"}, ExitOK},
		{[]string{"queue", "status", "--help"}, ExitOK},
		{[]string{"queue", "purge"}, ExitUsage},
		{[]string{"queue", "redrive", "--max", "x"}, ExitUsage},
		{[]string{"bronze"}, ExitUsage},
		{[]string{"bronze", "--help"}, ExitOK},
		{[]string{"bronze", "add"}, ExitUsage},
		{[]string{"bronze", "add", "--help"}, ExitOK},
		{[]string{"bronze", "add", "a", "b", "--key", "bronze/k"}, ExitUsage},
		{[]string{"bronze", "remove", "a"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, "usage:") {
				t.Errorf("no usage on stderr:\n%s", stderr)
			}
		})
	}
}

func TestBronzeAddRunUntilIdleAndQueue(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "s.jsonl")
	lines := []string{
		`{"record_type":"shipments","event_id":"e1","shipment_id":"S1","origin":"A","destination":"B","carrier":"UPS","weight_kg":1.5,"event_time":"2025-01-01T10:00:00Z"}`,
		`{"record_type":"shipments","event_id":"e2","shipment_id":"S2","origin":"A","destination":"C","carrier":"DHL","weight_kg":2,"event_time":"2025-01-02T10:00:00Z"}`,
		`not json`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "bronze", "add", in, "--data-dir", data, "--prefix", "bronze/shipments/")
	if code != ExitOK || !strings.Contains(out, "s3://bronze/bronze/shipments/s.jsonl") {
		t.Fatalf("bronze add: %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "store", "bronze", "bronze", "shipments", "s.jsonl")); err != nil {
		t.Fatalf("not in the store: %v", err)
	}

	code, out, stderr = runCLI(t, "run", "--until-idle", "--data-dir", data, "--output", "json", "--settle", "0")
	if code != ExitOK {
		t.Fatalf("run: %d\n%s%s", code, out, stderr)
	}
	var s Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if s.Objects != 1 || s.Records != 3 || s.SilverRows != 2 || s.Quarantined != 1 || s.QueueDepth != 0 || s.DLQDepth != 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.SilverByType["shipments"] != 2 || s.SilverFiles != 2 {
		t.Errorf("silver by type %+v, files %d", s.SilverByType, s.SilverFiles)
	}

	// Uploading the same bytes again is a duplicate: nothing new lands.
	if code, _, stderr := runCLI(t, "bronze", "add", in, "--data-dir", data, "--key", "bronze/shipments/s.jsonl"); code != ExitOK {
		t.Fatal(stderr)
	}
	code, out, _ = runCLI(t, "run", "--until-idle", "--data-dir", data, "--settle", "0")
	if code != ExitOK || !regexp.MustCompile(`objects skipped +1\n`).MatchString(out) || !regexp.MustCompile(`silver rows +2 `).MatchString(out) {
		t.Fatalf("second run: %d\n%s", code, out)
	}

	code, out, _ = runCLI(t, "queue", "status", "--data-dir", data, "--output", "json")
	if code != ExitOK || !strings.Contains(out, `"visible": 0`) {
		t.Fatalf("queue status: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "queue", "redrive", "--data-dir", data, "--max", "5")
	if code != ExitOK || out != "redrove 0 messages\n" {
		t.Fatalf("redrive: %d %q", code, out)
	}
}

func TestUpStopsWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C came at once
	var out, errb bytes.Buffer
	code := Run(ctx, Env{Stdout: &out, Stderr: &errb}, []string{"up", "--data-dir", t.TempDir()})
	if code != ExitOK || !strings.Contains(errb.String(), "watching s3://bronze/bronze/") || !strings.Contains(errb.String(), "stopped") {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
}

func TestQueueStatusAndRedriveMoveDeadLetters(t *testing.T) {
	data := t.TempDir()
	// A message that failed three receives sits in the dead-letter queue.
	now := time.Now().Add(-time.Minute) // the CLI runs on the real clock, later
	q, err := boltqueue.Open(filepath.Join(data, "queue.db"), boltqueue.Options{MaxReceiveCount: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := q.SendBatch(t.Context(), []queue.SendEntry{{ID: "1", Body: "poison"}}); err != nil || len(f) > 0 {
		t.Fatal(f, err)
	}
	for range 4 {
		if _, err := q.Receive(t.Context(), 10, time.Second, 0); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2 * time.Second)
	}
	q.Close()

	code, out, _ := runCLI(t, "queue", "status", "--data-dir", data)
	if code != ExitOK || !strings.Contains(out, "dlq    visible 1") || !strings.Contains(out, "queue  visible 0") {
		t.Fatalf("status: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "queue", "redrive", "--data-dir", data, "--max", "10")
	if code != ExitOK || out != "redrove 1 messages\n" {
		t.Fatalf("redrive: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "queue", "status", "--data-dir", data, "--output", "json")
	var st map[string]queue.Depth
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK {
		t.Fatalf("status json: %d %q %v", code, out, err)
	}
	if st["queue"].Visible != 1 || st["dlq"].Visible != 0 {
		t.Fatalf("after redrive: %+v", st)
	}
}

func TestSecondProcessOnADataDirIsExplained(t *testing.T) {
	data := t.TempDir()
	// Another process holds the queue file (bbolt's exclusive lock).
	q, err := boltqueue.Open(filepath.Join(data, "queue.db"), boltqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	code, _, stderr := runCLI(t, "queue", "status", "--data-dir", data, "--lock-timeout", "50ms")
	if code != ExitFailure || !strings.Contains(stderr, "Only one process opens a data dir") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
