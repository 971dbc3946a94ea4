// Package duckdbtest runs the reference DuckDB reader from tests: the
// independent Parquet reader the team checks its files against (COMMON.md).
// The runner is $ELT_DUCKDB, else ../shared/bench/duckdb/run.sh relative to
// the repository root (the directory holding go.mod). A test that needs it
// is skipped only when node is not installed; a missing runner fails it.
package duckdbtest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Runner returns the runner's path, skipping t when node is missing.
func Runner(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the DuckDB reference reader needs it")
	}
	if p := os.Getenv("ELT_DUCKDB"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "bench", "duckdb", "run.sh")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("DuckDB reference runner not found at %s (set ELT_DUCKDB): %v", p, err)
	}
	return p
}

// Run runs the runner with args (convert, inspect or query) and returns
// what it printed; t fails, with the runner's stderr, if it fails.
func Run(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Runner(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// Column is one column as DuckDB reads it (Type is DuckDB's type name, e.g.
// VARCHAR, BIGINT, TIMESTAMP WITH TIME ZONE).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Inspection is what `run.sh inspect GLOB` prints.
type Inspection struct {
	Rows    int64    `json:"rows"`
	Files   int      `json:"files"`
	Columns []Column `json:"columns"`
}

// Inspect reads the Parquet files matching glob: rows, files and columns.
func Inspect(t testing.TB, glob string) Inspection {
	t.Helper()
	out := Run(t, "inspect", glob)
	var res Inspection
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&res); err != nil {
		t.Fatalf("duckdb inspect %s: decode %q: %v", glob, out, err)
	}
	return res
}

// Query runs SQL and returns the result rows as printed: one JSON object a
// line (DuckDB may print BIGINT and HUGEINT values as strings).
func Query(t testing.TB, sql string) []byte {
	t.Helper()
	return Run(t, "query", sql)
}
