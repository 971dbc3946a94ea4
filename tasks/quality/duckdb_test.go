package quality_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/duckdbtest"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

// DuckDB, an independent Parquet reader and SQL engine, computes the same
// figures from the silver files the gate validated: the unexpected counts
// of the map expectations (unique counting every occurrence of a repeated
// value), and the mean/min/max aggregates.
func TestAgainstDuckDB(t *testing.T) {
	duckdbtest.Runner(t) // skip before the work when node is missing
	dir := t.TempDir()
	st, err := fsstore.New(dir, fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for k, seed := range []uint64{5, 6, 7} {
		data, _ := qualitytest.Generate(t, seed, "shipments", day, 3000, fake.Options{ViolationRate: 0.02})
		qualitytest.Land(t, st, "bronze/part-"+string(rune('a'+k))+".jsonl", data)
	}
	out, err := newTask(t, st, nil).Handle(context.Background(), input())
	if err != nil {
		t.Fatal(err)
	}
	res := validationResult(t, st, out)
	got := map[string]any{}
	for _, r := range res.Results {
		key := r.ExpectationConfig.Label()
		if v, ok := r.Result["unexpected_count"]; ok {
			got[key] = v
		} else if v, ok := r.Result["observed_value"]; ok {
			got[key] = v
		}
	}
	glob := filepath.Join(dir, "silver", "silver", "shipments", "dt=2024-05-01", "*.parquet")
	sql := `with t as (select * from read_parquet('` + glob + `')),
dup as (select shipment_id, count(*) n from t group by shipment_id having count(*) > 1)
select
 (select count(*) from t) as rows,
 (select count(*) from t where carrier not in ('DHL','UPS','FedEx','DPD','GLS','PostNL','Kuehne+Nagel','DB Schenker')) as carrier,
 (select count(*) from t where not (weight_kg > 0 and weight_kg <= 5000)) as weight,
 (select coalesce(sum(n), 0) from dup) as dup,
 (select avg(weight_kg) from t) as mean,
 (select min(weight_kg) from t) as min,
 (select max(weight_kg) from t) as max,
 (select count(*) from t where not regexp_matches(shipment_id, '^SHP-[0-9a-f]{12}$')) as shipment_re`
	b := duckdbtest.Query(t, sql)
	var ref map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &ref); err == nil {
			break
		}
	}
	num := func(v any) float64 {
		switch x := v.(type) {
		case float64:
			return x
		case string: // DuckDB's BIGINT/HUGEINT may print as strings
			var f float64
			json.Unmarshal([]byte(x), &f)
			return f
		}
		t.Fatalf("not a number: %#v", v)
		return 0
	}
	t.Logf("duckdb %v; gate %v", ref, got)
	if num(ref["rows"]) != float64(out.Rows) {
		t.Fatalf("rows: duckdb %v, gate %d", ref["rows"], out.Rows)
	}
	exact := map[string]string{
		"expect_column_values_to_be_in_set(carrier)":       "carrier",
		"expect_column_values_to_be_between(weight_kg)":    "weight",
		"expect_column_values_to_be_unique(shipment_id)":   "dup",
		"expect_column_values_to_match_regex(shipment_id)": "shipment_re",
		"expect_column_min_to_be_between(weight_kg)":       "min",
		"expect_column_max_to_be_between(weight_kg)":       "max",
	}
	for label, col := range exact {
		if num(got[label]) != num(ref[col]) {
			t.Errorf("%s: gate %v, duckdb %v", label, got[label], ref[col])
		}
	}
	if m, r := num(got["expect_column_mean_to_be_between(weight_kg)"]), num(ref["mean"]); math.Abs(m-r) > 1e-9*math.Abs(r) {
		t.Errorf("mean: gate %v, duckdb %v", m, r)
	}
	if num(ref["carrier"]) == 0 || num(ref["weight"]) == 0 || num(ref["dup"]) == 0 {
		t.Fatalf("the fixture planted nothing: %v", ref)
	}
}
