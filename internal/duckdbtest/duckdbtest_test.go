package duckdbtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The helpers against the real runner: a JSONL file converted by DuckDB
// reads back with its row count, one file and its columns; a query returns
// its row as JSON.
func TestConvertInspectQuery(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte("{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":2}\n{\"id\":\"c\",\"n\":40}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.parquet")
	Run(t, "convert", in, out, "1")
	got := Inspect(t, filepath.Join(dir, "*.parquet"))
	if got.Rows != 3 || got.Files != 1 {
		t.Fatalf("inspect: %d rows in %d files, want 3 in 1 (%+v)", got.Rows, got.Files, got)
	}
	types := map[string]string{}
	for _, c := range got.Columns {
		types[c.Name] = c.Type
	}
	if types["id"] != "VARCHAR" || types["n"] != "BIGINT" {
		t.Fatalf("columns %+v, want id VARCHAR and n BIGINT", got.Columns)
	}
	row := strings.TrimSpace(string(Query(t, "SELECT sum(n) AS s FROM read_parquet('"+out+"')")))
	if row != `{"s":"43"}` && row != `{"s":43}` {
		t.Fatalf("query: %s, want s = 43", row)
	}
}
