package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// glueStandIn answers StartCrawler and GetCrawler (AWS JSON 1.1, as the
// SDK sends them; https://docs.aws.amazon.com/glue/latest/webapi/API_GetCrawler.html):
// a started crawler is RUNNING for one GetCrawler, then READY with a
// SUCCEEDED last crawl.
type glueStandIn struct {
	mu      sync.Mutex
	name    string
	started int
	gets    int
}

func (g *glueStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name string }
	json.NewDecoder(r.Body).Decode(&in)
	g.mu.Lock()
	defer g.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if in.Name != g.name {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "EntityNotFoundException", "message": "crawler " + in.Name + " not found"})
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "AWSGlue.StartCrawler":
		g.started++
		g.gets = 0
		w.Write([]byte("{}"))
	case "AWSGlue.GetCrawler":
		g.gets++
		cr := map[string]any{"Name": g.name, "State": "READY"}
		if g.started > 0 && g.gets == 1 {
			cr["State"] = "RUNNING"
		} else if g.started > 0 {
			cr["LastCrawl"] = map[string]any{"Status": "SUCCEEDED", "StartTime": 1.7e9}
		}
		json.NewEncoder(w).Encode(map[string]any{"Crawler": cr})
	default:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException"})
	}
}

func TestGlueCrawlerTargetAWS(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	g := &glueStandIn{name: "elt-dev-silver"}
	srv := httptest.NewServer(g)
	defer srv.Close()
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(outputs, []byte(`{"region":{"value":"eu-west-1"},"glue_crawler_name":{"value":"elt-dev-silver"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	aws := []string{"--target", "aws", "--tf-outputs", outputs, "--endpoint-url", srv.URL, "--data-dir", t.TempDir()}

	code, out, stderr := opsCLI(t, append([]string{"glue", "crawler-start", "--wait=false"}, aws...)...)
	var run CrawlerRun
	if err := json.Unmarshal([]byte(out), &run); code != ExitOK || err != nil || run.State != "RUNNING" || run.Crawler != "elt-dev-silver" {
		t.Fatalf("crawler-start: exit %d, %+v, %v\n%s", code, run, err, stderr)
	}
	code, out, _ = opsCLI(t, append([]string{"glue", "crawler-status"}, aws...)...)
	run = CrawlerRun{}
	if err := json.Unmarshal([]byte(out), &run); code != ExitOK || err != nil || run.State != "READY" || run.Status != "SUCCEEDED" {
		t.Fatalf("crawler-status: exit %d, %+v, %v", code, run, err)
	}
	if g.started != 1 {
		t.Fatalf("StartCrawler called %d times", g.started)
	}
	// No crawler deployed: a clear error.
	if err := os.WriteFile(outputs, []byte(`{"region":{"value":"eu-west-1"},"glue_crawler_name":{"value":""}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = opsCLI(t, append([]string{"glue", "crawler-start"}, aws...)...)
	if code != ExitFailure || !strings.Contains(stderr, "glue_crawler_name") {
		t.Fatalf("no crawler: exit %d\n%s", code, stderr)
	}
}

// glue job-start runs compaction-backfill on one partition: many small
// files with duplicates become fewer files of distinct rows, and the
// catalog (crawled first) points at them; job-status reads the execution.
func TestGlueJobStartCompactsPartition(t *testing.T) {
	dir := t.TempDir()
	// Three uploads of the same day: three silver files, 100 rows sent twice.
	seedSilver(t, dir, "tracking_events", 300, "2025-04-01", 1, "--seed", "3")
	seedSilver(t, dir, "tracking_events", 200, "2025-04-01", 1, "--seed", "4")
	seedSilver(t, dir, "tracking_events", 100, "2025-04-01", 1, "--seed", "3") // the first 100 of seed 3 again
	if code, _, stderr := opsCLI(t, "glue", "crawler-start", "--data-dir", dir); code != ExitOK {
		t.Fatalf("crawler-start: exit %d\n%s", code, stderr)
	}
	code, out, stderr := opsCLI(t, "glue", "job-start", "--record-type", "tracking_events", "--dt", "2025-04-01", "--name", "compact-1", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("job-start: exit %d\n%s\n%s", code, out, stderr)
	}
	if x := decodeExecution(t, out); x.Status != "SUCCEEDED" {
		t.Fatalf("execution %+v", x)
	}
	cat, err := localcatalog.New(orchestrator.CatalogDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.GetPartition(context.Background(), orchestrator.CatalogDatabase, "tracking_events", []string{"2025-04-01"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "s3://silver/silver_compacted/tracking_events/dt=2025-04-01/compact-1/"
	if p.Location != want {
		t.Fatalf("catalog location %s, want %s", p.Location, want)
	}
	var m struct {
		Inputs     []json.RawMessage `json:"inputs"`
		Outputs    []json.RawMessage `json:"outputs"`
		InputRows  int64             `json:"input_rows"`
		OutputRows int64             `json:"output_rows"`
		Duplicates int64             `json:"duplicates_removed"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "store", "silver", "silver_compacted", "tracking_events", "dt=2025-04-01", "compact-1", "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 3 || len(m.Outputs) != 1 || m.InputRows != 600 || m.OutputRows != 500 || m.Duplicates != 100 {
		t.Fatalf("manifest: %d inputs, %d outputs, rows %d -> %d, %d duplicates; want 3 -> 1, 600 -> 500, 100", len(m.Inputs), len(m.Outputs), m.InputRows, m.OutputRows, m.Duplicates)
	}
	if code, out, stderr := opsCLI(t, "glue", "job-status", "--data-dir", dir, "--output", "table"); code != ExitOK || !strings.Contains(out, "compact-1") {
		t.Fatalf("job-status: exit %d\n%s\n%s", code, out, stderr)
	}
}
