package workflows

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/tasks/crawl"
)

// TestGlueTablesMatchCrawl: the tables Terraform declares are the tables
// the crawl task would create over the default silver prefix (same name,
// location, columns and partition keys), one per registered record type,
// and the generated file decodes to them.
func TestGlueTablesMatchCrawl(t *testing.T) {
	reg := records.Default()
	data, err := GlueTablesJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got GlueTables
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decode %s: %v", GlueTablesPath, err)
	}
	names := make([]string, len(got.Tables))
	for i, tb := range got.Tables {
		names[i] = tb.Name
		typ, ok := reg.Lookup(tb.Name)
		if !ok {
			t.Errorf("table %s has no record type", tb.Name)
			continue
		}
		want := crawl.TableFor(typ, "db", "bucket", crawl.DefaultSilverPrefix)
		if loc := crawl.Location("bucket", tb.LocationSuffix); loc != want.Location {
			t.Errorf("%s: location %s, crawl uses %s", tb.Name, loc, want.Location)
		}
		if !slices.Equal(tb.Columns, want.Columns) || !slices.Equal(tb.PartitionKeys, want.PartitionKeys) {
			t.Errorf("%s: columns %v / %v, crawl uses %v / %v", tb.Name, tb.Columns, tb.PartitionKeys, want.Columns, want.PartitionKeys)
		}
		// Lineage columns are part of the declared schema.
		for _, c := range []string{silver.ColSourceOffset, silver.ColSourceIndex, silver.ColIngestedAt} {
			if !slices.ContainsFunc(tb.Columns, func(col catalog.Column) bool { return col.Name == c }) {
				t.Errorf("%s: lineage column %s missing", tb.Name, c)
			}
		}
	}
	if want := slices.Sorted(slices.Values(reg.Names())); !slices.Equal(names, want) {
		t.Errorf("tables %v, record types %v", names, want)
	}
}
