package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runElt(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Stdout: &out, Stderr: &errb}, args)
	return out.String(), errb.String(), code
}

// gen then transform: every input is either a silver row or quarantined,
// and the bad ones are exactly what gen reported.
func TestGenThenTransform(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, format string }{{"a.jsonl", "jsonl"}, {"b.json", "json"}, {"c.jsonl.gz", "jsonl"}} {
		in := filepath.Join(dir, tc.name)
		stdout, stderr, code := runElt(t, "gen", "--type", "all", "--count", "400", "--format", tc.format, "--bad-rate", "0.1", "--seed", "3", "--out", in)
		if code != ExitOK {
			t.Fatalf("gen: %d %s", code, stderr)
		}
		var g genSummary
		if err := json.Unmarshal([]byte(stdout), &g); err != nil {
			t.Fatal(err)
		}
		if g.Good+g.Bad != 400 || g.Bad == 0 {
			t.Fatalf("gen summary %+v", g)
		}
		out := filepath.Join(dir, "out-"+tc.name)
		stdout, stderr, code = runElt(t, "transform", "--in", in, "--out", out, "--chunk-bytes", "20000", "--workers", "2")
		if code != ExitOK {
			t.Fatalf("transform: %d %s", code, stderr)
		}
		var s TransformSummary
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatal(err)
		}
		if s.Records != 400 || s.Rows != int64(g.Good) || s.Quarantined != int64(g.Bad) || s.Duplicates != 0 {
			t.Fatalf("%s: transform %+v, gen %+v", tc.name, s, g)
		}
		if tc.name == "a.jsonl" && s.Chunks < 2 {
			t.Fatalf("not split: %d chunks", s.Chunks)
		}
		parts, _ := filepath.Glob(filepath.Join(out, "silver", "*", "dt=*", "part-*.parquet"))
		quar, _ := filepath.Glob(filepath.Join(out, "quarantine", "*", "dt=*", "part-*.jsonl"))
		if len(parts)+len(quar) != s.Files || len(parts) == 0 || len(quar) == 0 {
			t.Fatalf("%d parquet + %d quarantine files, summary says %d", len(parts), len(quar), s.Files)
		}
		// Rerunning overwrites the same files.
		if _, _, code = runElt(t, "transform", "--in", in, "--out", out, "--chunk-bytes", "20000"); code != ExitOK {
			t.Fatal("rerun failed")
		}
		again, _ := filepath.Glob(filepath.Join(out, "silver", "*", "dt=*", "part-*.parquet"))
		if len(again) != len(parts) {
			t.Fatalf("rerun added files: %d -> %d", len(parts), len(again))
		}
	}
}

func TestGenDeterministicAndUsage(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	runElt(t, "gen", "--count", "50", "--seed", "9", "--bad-rate", "0.2", "--out", a)
	runElt(t, "gen", "--count", "50", "--seed", "9", "--bad-rate", "0.2", "--out", b)
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if len(x) == 0 || !bytes.Equal(x, y) {
		t.Fatal("gen is not deterministic")
	}
	for _, args := range [][]string{
		{"gen"},
		{"gen", "--out", a, "--format", "xml"},
		{"gen", "--out", a, "--type", "parcels"},
		{"gen", "--out", a, "--bad-rate", "2"},
		{"transform"},
		{"transform", "--in", a},
	} {
		if _, _, code := runElt(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want usage", args, code)
		}
	}
	if _, stderr, code := runElt(t, "gen", "--help"); code != ExitOK || !strings.Contains(stderr, "usage: elt gen") {
		t.Errorf("gen --help: %d %s", code, stderr)
	}
	if _, _, code := runElt(t, "transform", "--in", filepath.Join(dir, "missing.jsonl"), "--out", dir); code != ExitFailure {
		t.Errorf("missing input: exit %d", code)
	}
}
