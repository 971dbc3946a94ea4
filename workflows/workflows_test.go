package workflows

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/serverless-elt/elt/asl"
)

var update = flag.Bool("update", false, "rewrite the golden files (the committed generated files)")

// TestGolden: every generated file equals its committed copy. Refresh with
// `go test ./workflows -update` (or `go run ./cmd/aslgen`).
func TestGolden(t *testing.T) {
	for _, f := range Generated() {
		t.Run(f.Path, func(t *testing.T) {
			want, err := f.Generate()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", filepath.FromSlash(f.Path))
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			have, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./workflows -update`)", err)
			}
			if !bytes.Equal(have, want) {
				t.Fatalf("%s is stale: run `go test ./workflows -update` or `go run ./cmd/aslgen`", f.Path)
			}
			again, err := f.Generate()
			if err != nil || !bytes.Equal(again, want) {
				t.Fatalf("generation is not deterministic (err %v)", err)
			}
		})
	}
}

// TestPlaceholders pins each workflow's deployment placeholders: they are
// its API towards Terraform.
func TestPlaceholders(t *testing.T) {
	want := map[string][]string{
		CompactionName:  {"compact_cleanup_function_arn", "compact_function_arn", "list_partitions_function_arn", "notification_topic_arn"},
		OpsName:         {"notification_topic_arn", "replay_function_arn", "silverpoll_function_arn", "validate_input_function_arn"},
		QualityGateName: {"notification_topic_arn", "quality_function_arn"},
	}
	for _, w := range All() {
		t.Run(w.Name, func(t *testing.T) {
			sm, err := w.Build()
			if err != nil {
				t.Fatal(err)
			}
			if got := asl.Placeholders(sm); !slices.Equal(got, want[w.Name]) {
				t.Fatalf("placeholders %v, want %v", got, want[w.Name])
			}
			if !slices.Equal(w.Placeholders, want[w.Name]) {
				t.Fatalf("declared %v, want %v", w.Placeholders, want[w.Name])
			}
			data, err := w.Definition()
			if err != nil {
				t.Fatal(err)
			}
			values := map[string]string{}
			for _, p := range want[w.Name] {
				values[p] = "arn:aws:test:us-east-1:000000000000:" + p
			}
			out, err := asl.Substitute(data, values)
			if err != nil {
				t.Fatal(err)
			}
			if left := asl.PlaceholdersIn(out); len(left) != 0 {
				t.Fatalf("placeholders left after Substitute: %v", left)
			}
		})
	}
}

// TestTasksMatchPlaceholders: every task X has a ${X_function_arn}
// placeholder and every *_function_arn placeholder names a task.
func TestTasksMatchPlaceholders(t *testing.T) {
	for _, w := range All() {
		var fromPlaceholders []string
		for _, p := range w.Placeholders {
			if name, ok := strings.CutSuffix(p, "_function_arn"); ok {
				fromPlaceholders = append(fromPlaceholders, name)
			}
		}
		if !slices.Equal(fromPlaceholders, w.Tasks) {
			t.Errorf("%s: tasks %v, function placeholders name %v", w.Name, w.Tasks, fromPlaceholders)
		}
	}
}

func TestNamesAndFilesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Generated() {
		if seen[f.Path] {
			t.Fatalf("duplicate generated path %s", f.Path)
		}
		seen[f.Path] = true
	}
	for _, w := range All() {
		if w.File != strings.ReplaceAll(w.Name, "-", "_") {
			t.Errorf("%s: file %s should be the name with underscores", w.Name, w.File)
		}
	}
}

// TestOpsErrorHandling: Catch on every Task, retries only on transient
// errors and never States.ALL.
func TestOpsErrorHandling(t *testing.T) {
	sm, err := OpsReplayQuality().Build()
	if err != nil {
		t.Fatal(err)
	}
	transient := append(slices.Clone(lambdaTransient), asl.ErrTimeout,
		"SNS.InternalErrorException", "SNS.ThrottledException", "SNS.SdkClientException", "SilverPoll.StoreUnavailable")
	tasks := 0
	for name, st := range sm.States.All() {
		if st.Type != asl.TypeTask {
			continue
		}
		tasks++
		if len(st.Catch) == 0 {
			t.Errorf("%s has no Catch", name)
		}
		wantNext := "NotifyFailure"
		if name == "NotifyFailure" {
			wantNext = "Failed"
		}
		for _, c := range st.Catch {
			if c.Next != wantNext {
				t.Errorf("%s catches to %s, want %s", name, c.Next, wantNext)
			}
		}
		if len(st.Retry) == 0 {
			t.Errorf("%s has no Retry", name)
		}
		for _, r := range st.Retry {
			for _, e := range r.ErrorEquals {
				if !slices.Contains(transient, e) {
					t.Errorf("%s retries non-transient error %s", name, e)
				}
			}
		}
		if st.TimeoutSeconds == nil {
			t.Errorf("%s has no TimeoutSeconds", name)
		}
	}
	if tasks != 3 { // the replay task runs inside the Replay Map (see TestOpsReplayMap)
		t.Fatalf("%d tasks, want 3", tasks)
	}
	if sm.StartAt != "ValidateInput" {
		t.Fatalf("StartAt %s, want ValidateInput first", sm.StartAt)
	}
}

// schemaCase is a document an input schema must accept (ok) or refuse.
type schemaCase struct {
	name, doc string
	ok        bool
}

// runSchemaCases validates each case's document, decoded with UseNumber
// as the engine decodes inputs, against s.
func runSchemaCases(t *testing.T, s *jsonschema.Schema, cases []schemaCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var doc any
			dec := json.NewDecoder(strings.NewReader(tt.doc))
			dec.UseNumber()
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(doc); (err == nil) != tt.ok {
				t.Fatalf("valid=%v, want %v: %v", err == nil, tt.ok, err)
			}
		})
	}
}

func compileFile(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	if err := c.AddResource("mem:///s.json", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///s.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpsInputSchema(t *testing.T) {
	s := compileFile(t, filepath.Join("..", "schema", "ops_input.schema.json"))
	base := `"bronze_bucket":"bronze-bkt","src_prefix":"bronze/shipments/","dest_prefix_base":"bronze/replay/manual",
		"silver_bucket":"silver-bkt","silver_prefix":"silver/",
		"poll_interval_seconds":30,"max_attempts":20`
	tests := []schemaCase{
		{"original make ops-start input", `{` + base + `,"window_hours":24}`, true},
		{"start and end", `{` + base + `,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`, true},
		{"no window", `{` + base + `}`, false},
		{"both windows", `{` + base + `,"window_hours":24,"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"}`, false},
		{"start without end", `{` + base + `,"start":"2026-01-01T00:00:00Z"}`, false},
		{"bad timestamp", `{` + base + `,"start":"yesterday","end":"2026-01-02T00:00:00Z"}`, false},
		{"zero attempts", `{` + strings.Replace(base, `"max_attempts":20`, `"max_attempts":0`, 1) + `,"window_hours":1}`, false},
		{"unknown field", `{` + base + `,"window_hours":1,"extra":true}`, false},
		{"fields the receipts made meaningless", `{` + base + `,"window_hours":1,"record_type":"shipments","min_parquet_objects":1}`, false},
	}
	runSchemaCases(t, s, tests)
}

// TestCommittedDefinitionsRoundTrip: each committed definition parses with
// asl.Parse and encodes back to exactly the same bytes.
func TestCommittedDefinitionsRoundTrip(t *testing.T) {
	for _, w := range All() {
		t.Run(w.Name, func(t *testing.T) {
			data, err := os.ReadFile(w.File + ".asl.json")
			if err != nil {
				t.Fatal(err)
			}
			sm, err := asl.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := asl.Encode(sm)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Fatalf("Parse+Encode changed %s.asl.json", w.File)
			}
		})
	}
}
