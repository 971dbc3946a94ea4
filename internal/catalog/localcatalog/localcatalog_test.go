package localcatalog

import (
	"context"
	"testing"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/catalog/catalogtest"
	"github.com/serverless-elt/elt/internal/fault"
)

func TestContract(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalogtest.Harness {
		c, err := New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return catalogtest.Harness{Catalog: c, Database: "elt", OtherDatabase: "other"}
	})
}

func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c1, _ := New(dir)
	if err := c1.UpsertTable(ctx, catalogtest.Table("elt", "shipments")); err != nil {
		t.Fatal(err)
	}
	if err := c1.UpsertPartition(ctx, catalog.Partition{Database: "elt", Table: "shipments", Values: []string{"2025-01-01"}, Location: "s3://x/"}); err != nil {
		t.Fatal(err)
	}
	c2, _ := New(dir)
	if p, err := c2.GetPartition(ctx, "elt", "shipments", []string{"2025-01-01"}); err != nil || p.Location != "s3://x/" {
		t.Fatalf("after reopen: %+v %v", p, err)
	}
}

func TestNamesChecked(t *testing.T) {
	ctx := context.Background()
	c, _ := New(t.TempDir())
	for _, n := range []string{"", "..", "../escape", "a/b", ".hidden"} {
		if err := c.UpsertTable(ctx, catalogtest.Table("elt", n)); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("table name %q: %v", n, err)
		}
		if _, err := c.ListTables(ctx, n); !fault.Is(err, fault.InvalidArgument) {
			t.Errorf("database name %q: %v", n, err)
		}
	}
}

// Values that differ only in characters QueryEscape treats specially must
// not share a file.
func TestPartitionFileNamesDistinct(t *testing.T) {
	vals := [][]string{{"a b"}, {"a+b"}, {"a%20b"}, {"a,b"}, {"a", "b"}, {""}, {"", ""}, {"."}, {".."}}
	seen := map[string][]string{}
	for _, v := range vals {
		f := partitionFile(v)
		if prev, ok := seen[f]; ok {
			t.Errorf("%q and %q share file %s", prev, v, f)
		}
		seen[f] = v
	}
}
