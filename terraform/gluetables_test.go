package terraform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/serverless-elt/elt/internal/records"
)

func findDir(t *testing.T, path string) *tfDir {
	t.Helper()
	for _, d := range loadDirs(t) {
		if filepath.ToSlash(d.path) == path {
			return d
		}
	}
	t.Fatalf("%s not found", path)
	return nil
}

func findBlock(blocks []*hclsyntax.Block, labels ...string) *hclsyntax.Block {
	for _, b := range blocks {
		if slices.Equal(b.Labels, labels) {
			return b
		}
	}
	return nil
}

func literalString(t *testing.T, b *hclsyntax.Block, attr string) string {
	t.Helper()
	a, ok := b.Body.Attributes[attr]
	if !ok {
		t.Fatalf("%s %v has no %s", b.Type, b.Labels, attr)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() {
		t.Fatalf("%s %v: %s is not a literal", b.Type, b.Labels, attr)
	}
	return v.AsString()
}

// TestGlueTablesDeclared: the Glue catalog module declares one table per
// registered record type from the generated tables.json, the environment's
// record types all have one, and the crawler cannot compete with them (no
// table prefix, so its table for silver/<type>/ is the declared <type>;
// incremental crawls, which force LOG: it never rewrites their schema).
func TestGlueTablesDeclared(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("modules", "glue_catalog", "tables.json"))
	if err != nil {
		t.Fatalf("%v (run go run ./cmd/aslgen)", err)
	}
	var doc struct {
		Tables []struct {
			Name string `json:"name"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("decode tables.json: %v", err)
	}
	var declared []string
	for _, tb := range doc.Tables {
		declared = append(declared, tb.Name)
	}
	slices.Sort(declared)
	if want := slices.Sorted(slices.Values(records.Default().Names())); !slices.Equal(declared, want) {
		t.Errorf("tables.json declares %v; the record types are %v", declared, want)
	}

	mod := findDir(t, "modules/glue_catalog")
	table := findBlock(mod.blocks("resource"), "aws_glue_catalog_table", "silver")
	if table == nil {
		t.Fatal(`modules/glue_catalog has no resource "aws_glue_catalog_table" "silver"`)
	}
	if _, ok := table.Body.Attributes["for_each"]; !ok {
		t.Error("aws_glue_catalog_table.silver has no for_each")
	}
	if got := literalString(t, table, "table_type"); got != "EXTERNAL_TABLE" {
		t.Errorf("table_type %q", got)
	}
	readsFile := false
	for _, src := range mod.srcs {
		readsFile = readsFile || strings.Contains(string(src), `file("${path.module}/tables.json")`)
	}
	if !readsFile {
		t.Error("modules/glue_catalog does not read tables.json")
	}
	if v := findBlock(mod.blocks("variable"), "table_prefix"); v == nil || literalString(t, v, "default") != "" {
		t.Error(`variable table_prefix must default to "" (the crawler would otherwise create prefixed twins of the declared tables)`)
	}
	crawler := findBlock(mod.blocks("resource"), "aws_glue_crawler", "this")
	if crawler == nil {
		t.Fatal("no aws_glue_crawler.this")
	}
	for _, nb := range crawler.Body.Blocks {
		switch nb.Type {
		case "recrawl_policy":
			if got := literalString(t, nb, "recrawl_behavior"); got != "CRAWL_NEW_FOLDERS_ONLY" {
				t.Errorf("recrawl_behavior %q", got)
			}
		case "schema_change_policy":
			for _, a := range []string{"update_behavior", "delete_behavior"} {
				if got := literalString(t, nb, a); got != "LOG" {
					t.Errorf("%s %q: the crawler must not change the declared tables", a, got)
				}
			}
		}
	}

	env := findDir(t, "envs/dev")
	v := findBlock(env.blocks("variable"), "record_types")
	if v == nil {
		t.Fatal("envs/dev has no variable record_types")
	}
	val, diags := v.Body.Attributes["default"].Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("record_types default: %s", diags.Error())
	}
	for it := val.ElementIterator(); it.Next(); {
		_, name := it.Element()
		if !slices.Contains(declared, name.AsString()) {
			t.Errorf("envs/dev record type %q has no declared table", name.AsString())
		}
	}
}
