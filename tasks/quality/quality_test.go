package quality_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/objstore/storetest"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/quality/qualitytest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var runTime = time.Date(2024, 5, 2, 3, 4, 5, 0, time.UTC)

func newTask(t testing.TB, st objstore.Store, cat catalog.Catalog) *quality.Task {
	t.Helper()
	task, err := quality.New(quality.Deps{Store: st, Catalog: cat, Now: func() time.Time { return runTime }, Log: slog.New(slog.DiscardHandler)}, quality.Config{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func input() quality.Input {
	return quality.Input{SilverBucket: "silver", SilverPrefix: "silver/", RecordType: "shipments", Dt: "2024-05-01", RunName: "run-1"}
}

// The fixture: six shipments of 2024-05-01 in two bronze objects, landed
// in silver by the real transform. The second object plants three
// violations (a carrier outside the set, a weight beyond the bound, a
// repeated shipment_id) that still pass the record schema.
const cleanA = `{"record_type":"shipments","event_id":"e1","shipment_id":"SHP-00000000000a","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":12.5,"event_time":"2024-05-01T08:00:00Z"}
{"record_type":"shipments","event_id":"e2","shipment_id":"SHP-00000000000b","origin":"Oslo","destination":"Milan","carrier":"UPS","weight_kg":3.25,"event_time":"2024-05-01T09:00:00+02:00"}
{"record_type":"shipments","event_id":"e3","shipment_id":"SHP-00000000000c","origin":"Milan","destination":"Lyon","carrier":"GLS","weight_kg":40,"event_time":"2024-05-01T10:00:00Z"}
`

const badB = `{"record_type":"shipments","event_id":"e4","shipment_id":"SHP-00000000000d","origin":"Porto","destination":"Vienna","carrier":"Pigeon Express","weight_kg":7,"event_time":"2024-05-01T11:00:00Z"}
{"record_type":"shipments","event_id":"e5","shipment_id":"SHP-00000000000e","origin":"Vienna","destination":"Porto","carrier":"DPD","weight_kg":25000,"event_time":"2024-05-01T12:00:00Z"}
{"record_type":"shipments","event_id":"e6","shipment_id":"SHP-00000000000a","origin":"Lyon","destination":"Dublin","carrier":"FedEx","weight_kg":1.5,"event_time":"2024-05-01T13:00:00Z"}
`

const cleanB = `{"record_type":"shipments","event_id":"e4","shipment_id":"SHP-00000000000d","origin":"Porto","destination":"Vienna","carrier":"DPD","weight_kg":7,"event_time":"2024-05-01T11:00:00Z"}
`

func TestGoldenResult(t *testing.T) {
	tests := []struct {
		name    string
		objects []string
		rows    int64
		success bool
		failed  []string
	}{
		{"shipments_clean", []string{cleanA, cleanB}, 4, true, []string{}},
		{"shipments_violations", []string{cleanA, badB}, 6, false, []string{
			"expect_column_values_to_be_unique(shipment_id)",
			"expect_column_values_to_be_in_set(carrier)",
			"expect_column_values_to_be_between(weight_kg)",
			"expect_column_max_to_be_between(weight_kg)",
			"expect_column_mean_to_be_between(weight_kg)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := fsstore.New(t.TempDir(), fsstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for k, o := range tt.objects {
				qualitytest.Land(t, st, "bronze/fixture-"+string(rune('a'+k))+".jsonl", []byte(o))
			}
			out, err := newTask(t, st, nil).Handle(context.Background(), input())
			if err != nil {
				t.Fatal(err)
			}
			if out.Success != tt.success || strings.Join(out.FailedExpectations, ",") != strings.Join(tt.failed, ",") {
				t.Fatalf("success %v failed %v; want %v %v", out.Success, out.FailedExpectations, tt.success, tt.failed)
			}
			if out.Rows != tt.rows || out.Files != 2 || out.ResultKey != "ge/results/shipments/dt=2024-05-01/run-1.json" ||
				out.ReportKey != "ge/reports/shipments/dt=2024-05-01/run-1.html" || out.Partition != "s3://silver/silver/shipments/dt=2024-05-01/" {
				t.Fatalf("output %+v", out)
			}
			got := read(t, st, "silver", out.ResultKey)
			checkGolden(t, filepath.Join("testdata", tt.name+".json"), normalise(t, got))
			html := string(read(t, st, "silver", out.ReportKey))
			if !strings.Contains(html, "<!DOCTYPE html>") || strings.Contains(html, "<script") || strings.Contains(html, "http://") || strings.Contains(html, "https://") {
				t.Fatalf("report is not a self-contained page:\n%s", html)
			}
			if !tt.success && (!strings.Contains(html, "FAILED") || !strings.Contains(html, "Pigeon Express")) {
				t.Fatalf("report does not show the failure:\n%s", html)
			}
		})
	}
}

// normalise blanks what depends on the Parquet writer's exact bytes (ETag,
// size), so the golden file pins the GE semantics, not the encoder.
func normalise(t *testing.T, b []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	spec := doc["meta"].(map[string]any)["batch_spec"].(map[string]any)
	for _, f := range spec["files"].([]any) {
		f.(map[string]any)["etag"] = "<etag>"
		f.(map[string]any)["size"] = "<size>"
		key := f.(map[string]any)["key"].(string)
		f.(map[string]any)["key"] = key[:strings.LastIndex(key, "/")+1] + "part-<etag>-c00000.parquet"
	}
	out, err := quality.EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

func read(t *testing.T, st objstore.Store, bucket, key string) []byte {
	t.Helper()
	return storetest.Read(t, st, bucket, key)
}

// validationResult is the GE validation result a run wrote.
func validationResult(t *testing.T, st objstore.Store, out quality.Output) quality.ValidationResult {
	t.Helper()
	var res quality.ValidationResult
	if err := json.Unmarshal(read(t, st, "silver", out.ResultKey), &res); err != nil {
		t.Fatalf("%s: %v", out.ResultKey, err)
	}
	return res
}

// The counts in the result are GE's for the planted violations.
func TestViolationCounts(t *testing.T) {
	st, _ := fsstore.New(t.TempDir(), fsstore.Options{})
	qualitytest.Land(t, st, "bronze/a.jsonl", []byte(cleanA))
	qualitytest.Land(t, st, "bronze/b.jsonl", []byte(badB))
	out, err := newTask(t, st, nil).Handle(context.Background(), input())
	if err != nil {
		t.Fatal(err)
	}
	res := validationResult(t, st, out)
	check := func(label string, count float64, partial ...any) {
		t.Helper()
		var r *quality.ExpectationResult
		for _, x := range res.Results {
			if x.ExpectationConfig.Label() == label {
				r = &x
				break
			}
		}
		if r == nil {
			t.Fatalf("no result for %s", label)
		}
		if r.Success || r.Result["element_count"] != 6.0 || r.Result["unexpected_count"] != count || r.Result["unexpected_percent"] != count/6*100 {
			t.Errorf("%s: %v", label, r.Result)
		}
		got, _ := json.Marshal(r.Result["partial_unexpected_list"])
		want, _ := json.Marshal(partial)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: partial %s, want %s", label, got, want)
		}
	}
	check("expect_column_values_to_be_in_set(carrier)", 1, "Pigeon Express")
	check("expect_column_values_to_be_between(weight_kg)", 1, 25000.0)
	check("expect_column_values_to_be_unique(shipment_id)", 2, "SHP-00000000000a", "SHP-00000000000a")
	if res.Statistics.EvaluatedExpectations != 17 || res.Statistics.UnsuccessfulExpectations != 5 || out.Statistics.UnsuccessfulExpectations != 5 || *out.Statistics.SuccessPercent != *res.Statistics.SuccessPercent {
		t.Fatalf("statistics %+v / %+v", res.Statistics, out.Statistics)
	}
	if res.Meta.BatchSpec.Rows != 6 || len(res.Meta.BatchSpec.Files) != 2 || res.Meta.RunID.RunName != "run-1" || res.Meta.ExpectationSuiteName != "shipments" {
		t.Fatalf("meta %+v", res.Meta)
	}
}

// A suite in the silver bucket overrides the built-in one; a broken one is
// an input error.
func TestSuiteOverride(t *testing.T) {
	st, _ := fsstore.New(t.TempDir(), fsstore.Options{})
	qualitytest.Land(t, st, "bronze/a.jsonl", []byte(cleanA))
	ctx := context.Background()
	suite := `{"expectation_suite_name":"strict_shipments","expectations":[{"expectation_type":"expect_table_row_count_to_be_between","kwargs":{"min_value":10}},{"expectation_type":"expect_column_values_to_be_frobnicated","kwargs":{"column":"carrier"}}]}`
	if _, err := st.Put(ctx, "silver", "ge/suites/shipments.json", strings.NewReader(suite), nil); err != nil {
		t.Fatal(err)
	}
	out, err := newTask(t, st, nil).Handle(ctx, input())
	if err != nil {
		t.Fatal(err)
	}
	if out.Success || out.SuiteName != "strict_shipments" || len(out.FailedExpectations) != 2 || out.Statistics.EvaluatedExpectations != 2 {
		t.Fatalf("output %+v", out)
	}
	res := validationResult(t, st, out)
	if ei := res.Results[1].ExceptionInfo; !ei.RaisedException || !strings.Contains(*ei.ExceptionMessage, "not supported") {
		t.Fatalf("unknown expectation: %+v", ei)
	}
	if _, err := st.Put(ctx, "silver", "ge/suites/shipments.json", strings.NewReader(`{"expectations":[]}`), nil); err != nil {
		t.Fatal(err)
	}
	_, err = newTask(t, st, nil).Handle(ctx, input())
	if name := errName(err); name != quality.ErrInvalidInput {
		t.Fatalf("broken suite: %v (%s)", err, name)
	}
}

func errName(err error) string {
	var n interface{ ErrorName() string }
	if errors.As(err, &n) {
		return n.ErrorName()
	}
	return ""
}

// failingStore fails every call with a transient fault after n calls.
type failingStore struct {
	objstore.Store
	failList, failGet, failPut bool
}

func (f *failingStore) List(ctx context.Context, b string, o objstore.ListOptions) (objstore.ListPage, error) {
	if f.failList {
		return objstore.ListPage{}, fault.New(fault.Transient, "list", errors.New("503 slow down"))
	}
	return f.Store.List(ctx, b, o)
}

func (f *failingStore) Get(ctx context.Context, b, k string, o *objstore.GetOptions) (io.ReadCloser, objstore.ObjectInfo, error) {
	if f.failGet && strings.HasSuffix(k, ".parquet") {
		return nil, objstore.ObjectInfo{}, fault.New(fault.Transient, "get", errors.New("connection reset"))
	}
	return f.Store.Get(ctx, b, k, o)
}

func (f *failingStore) Put(ctx context.Context, b, k string, r io.Reader, o *objstore.PutOptions) (objstore.ObjectInfo, error) {
	if f.failPut {
		return objstore.ObjectInfo{}, fault.New(fault.Transient, "put", errors.New("503"))
	}
	return f.Store.Put(ctx, b, k, r, o)
}

func TestErrors(t *testing.T) {
	st, _ := fsstore.New(t.TempDir(), fsstore.Options{})
	qualitytest.Land(t, st, "bronze/a.jsonl", []byte(cleanA))
	if _, err := st.Put(context.Background(), "silver", "silver/shipments/dt=2024-05-03/part-x-c00000.parquet", strings.NewReader("not parquet at all"), nil); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*quality.Input)) quality.Input { in := input(); f(&in); return in }
	tests := []struct {
		name  string
		store objstore.Store
		in    quality.Input
		want  string
	}{
		{"no bucket", st, mod(func(in *quality.Input) { in.SilverBucket = "" }), quality.ErrInvalidInput},
		{"bad type", st, mod(func(in *quality.Input) { in.RecordType = "../etc" }), quality.ErrInvalidInput},
		{"bad dt", st, mod(func(in *quality.Input) { in.Dt = "2024-02-30" }), quality.ErrInvalidInput},
		{"bad run name", st, mod(func(in *quality.Input) { in.RunName = "a/b" }), quality.ErrInvalidInput},
		{"no suite", st, mod(func(in *quality.Input) { in.RecordType = "parcels" }), quality.ErrInvalidInput},
		{"empty partition", st, mod(func(in *quality.Input) { in.Dt = "2024-05-02" }), quality.ErrPartitionNotFound},
		{"wrong prefix", st, mod(func(in *quality.Input) { in.SilverPrefix = "gold" }), quality.ErrPartitionNotFound},
		{"not parquet", st, mod(func(in *quality.Input) { in.Dt = "2024-05-03" }), quality.ErrUnreadableData},
		{"list fails", &failingStore{Store: st, failList: true}, input(), quality.ErrStoreUnavailable},
		{"get fails", &failingStore{Store: st, failGet: true}, input(), quality.ErrStoreUnavailable},
		{"put fails", &failingStore{Store: st, failPut: true}, input(), quality.ErrStoreUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTask(t, tt.store, nil).Handle(context.Background(), tt.in)
			if got := errName(err); got != tt.want {
				t.Fatalf("error %v named %q, want %q", err, got, tt.want)
			}
		})
	}
	if _, err := quality.New(quality.Deps{}, quality.Config{}); err == nil {
		t.Fatal("New without a store")
	}
}

// With a catalog database, the catalog's partition location wins (e.g.
// after compaction switched it); a partition the catalog lacks falls back
// to the layout.
func TestCatalogLocation(t *testing.T) {
	ctx := context.Background()
	st, _ := fsstore.New(t.TempDir(), fsstore.Options{})
	qualitytest.Land(t, st, "bronze/a.jsonl", []byte(cleanA))
	// Move the partition's files elsewhere and point the catalog there.
	page, _ := st.List(ctx, "silver", objstore.ListOptions{Prefix: "silver/shipments/dt=2024-05-01/"})
	for _, o := range page.Objects {
		// Get and Put rather than Copy: the test needs no copy semantics.
		body := read(t, st, "silver", o.Key)
		if _, err := st.Put(ctx, "silver", "silver_compacted/shipments/dt=2024-05-01/r1/"+o.Key[strings.LastIndex(o.Key, "/")+1:], bytes.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
		st.Delete(ctx, "silver", o.Key)
	}
	cat, err := localcatalog.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.UpsertTable(ctx, catalog.Table{Database: "elt", Name: "shipments", Location: "s3://silver/silver/shipments/", PartitionKeys: []catalog.Column{{Name: "dt", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	if err := cat.UpsertPartition(ctx, catalog.Partition{Database: "elt", Table: "shipments", Values: []string{"2024-05-01"}, Location: "s3://silver/silver_compacted/shipments/dt=2024-05-01/r1/"}); err != nil {
		t.Fatal(err)
	}
	in := input()
	in.CatalogDatabase = "elt"
	out, err := newTask(t, st, cat).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Success || out.Rows != 3 || out.Partition != "s3://silver/silver_compacted/shipments/dt=2024-05-01/r1/" {
		t.Fatalf("output %+v", out)
	}
	in.Dt = "2024-05-04" // not in the catalog: the layout, which is empty
	if _, err := newTask(t, st, cat).Handle(ctx, in); errName(err) != quality.ErrPartitionNotFound {
		t.Fatalf("fallback: %v", err)
	}
}
