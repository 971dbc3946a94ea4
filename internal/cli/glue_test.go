package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/orchestrator"
)

// seedSilver generates count records of recordType and runs them through
// the embedded hot path into dir's silver.
func seedSilver(t *testing.T, dir, recordType string, count int, start string, days int, extra ...string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), recordType+".jsonl")
	args := append([]string{"gen", "--type", recordType, "--count", itoa(count), "--start", start, "--days", itoa(days), "--out", in}, extra...)
	if code, _, stderr := opsCLI(t, args...); code != ExitOK {
		t.Fatalf("gen: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := opsCLI(t, "bronze", "add", "--data-dir", dir, "--prefix", "bronze/"+recordType+"/", in); code != ExitOK {
		t.Fatalf("bronze add: exit %d\n%s", code, stderr)
	}
	if code, out, stderr := opsCLI(t, "run", "--until-idle", "--data-dir", dir, "--settle", "0"); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, stderr)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The crawler catalogs silver's partitions; crawler-status (another
// command) reads the persisted run.
func TestGlueCrawlerStartStatus(t *testing.T) {
	dir := t.TempDir()
	seedSilver(t, dir, "shipments", 200, "2025-01-01", 2)
	code, out, stderr := opsCLI(t, "glue", "crawler-start", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("crawler-start: exit %d\n%s\n%s", code, out, stderr)
	}
	var run CrawlerRun
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Status != "SUCCEEDED" {
		t.Fatalf("run %+v, %v", run, err)
	}
	code, out, _ = opsCLI(t, "glue", "crawler-status", "--data-dir", dir, "--output", "table")
	if code != ExitOK || !strings.Contains(out, "SUCCEEDED") || !strings.Contains(out, "shipments") {
		t.Fatalf("crawler-status: exit %d\n%s", code, out)
	}
	cat, err := localcatalog.New(orchestrator.CatalogDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := cat.ListPartitions(context.Background(), orchestrator.CatalogDatabase, "shipments")
	if err != nil || len(ps) != 2 {
		t.Fatalf("partitions %+v, %v; want the 2 days generated", ps, err)
	}
	for _, p := range ps {
		if !strings.HasPrefix(p.Location, "s3://silver/silver/shipments/dt=") {
			t.Errorf("partition %v at %s, want under silver/shipments", p.Values, p.Location)
		}
	}
}
