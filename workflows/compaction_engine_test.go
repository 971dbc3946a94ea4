package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/records/fake"
	"github.com/serverless-elt/elt/internal/silver"
	"github.com/serverless-elt/elt/tasks/compact"
)

// The compaction backfill, generated definition, on the local engine
// (virtual clock) with the REAL compact, compact_cleanup and
// list_partitions handlers over a real fsstore and localcatalog.

// flakyList fails the first n listings with a transient fault.
type flakyList struct {
	objstore.Store
	mu sync.Mutex
	n  int
}

func (f *flakyList) List(ctx context.Context, bucket string, o objstore.ListOptions) (objstore.ListPage, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return objstore.ListPage{}, fault.New(fault.Transient, "List", errors.New("SlowDown"))
	}
	return f.Store.List(ctx, bucket, o)
}

const compactionBucket = "silver"

// seedSilver writes small silver files for shipments and invoice_lines on
// 2024-05-01..02 through the real chunk writer, each file after the first
// repeating two records of the previous one; it returns the distinct rows
// per partition ("type/dt").
func seedSilver(t *testing.T, st objstore.Store, files int) map[string]int64 {
	t.Helper()
	gen, err := fake.New(3, fake.Options{Types: []string{"shipments", "invoice_lines"}, Start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Days: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := records.Default().NewParser()
	distinct := map[string]int64{}
	seen := map[string]bool{}
	var prev []string
	for i := 0; i < files; i++ {
		var lines []string
		for len(lines) < 40 {
			if line, ok, _ := gen.Next(); ok {
				lines = append(lines, string(line))
			}
		}
		cur := slices.Clone(lines)
		if prev != nil {
			lines = append(lines, prev[:2]...)
		}
		prev = cur
		cw := silver.NewChunkWriter(silver.Source{Bucket: "bronze", Key: fmt.Sprintf("bronze/f%02d.jsonl", i),
			ETag: fmt.Sprintf("%032x", i+1), IngestedAt: time.Date(2024, 5, 3, 0, i, 0, 0, time.UTC)}, silver.Options{Bucket: compactionBucket}, nil)
		for j, line := range lines {
			var rec records.Record
			if err := p.Parse([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			if err := cw.Add(&rec, silver.Position{Offset: int64(j), Index: -1}); err != nil {
				t.Fatal(err)
			}
			if !seen[rec.EventID] {
				seen[rec.EventID] = true
				distinct[rec.Type.Name+"/"+rec.Dt()]++
			}
		}
		if _, err := cw.Commit(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	return distinct
}

type compactionRun struct {
	x        engine.Execution
	store    *fsstore.Store
	cat      *localcatalog.Catalog
	notifier *fakeNotifier
	distinct map[string]int64
}

func runCompaction(t *testing.T, input string, prepare func(st *fsstore.Store) objstore.Store) compactionRun {
	t.Helper()
	st, err := fsstore.New(filepath.Join(t.TempDir(), "store"), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := localcatalog.New(filepath.Join(t.TempDir(), "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	distinct := seedSilver(t, st, 12)
	var store objstore.Store = st
	if prepare != nil {
		store = prepare(st)
	}
	deps := compact.Deps{Store: store, Catalog: cat}
	cfg := compact.Config{TempDir: t.TempDir()}
	ct, err := compact.New(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := compact.NewCleanup(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := compact.NewLister(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Embedded binding: the function placeholders are the task names.
	m := compileBound(t, CompactionBackfill(), map[string]string{
		"compact_function_arn":         "compact",
		"compact_cleanup_function_arn": "compact_cleanup",
		"list_partitions_function_arn": "list_partitions",
		"notification_topic_arn":       "arn:aws:sns:us-east-1:000000000000:elt",
	})
	n := &fakeNotifier{}
	eng := engine.New(engine.Options{Services: engine.Services{Notifier: n}, Seed: 1})
	eng.Tasks().Register("compact", engine.Typed(ct.Handle))
	eng.Tasks().Register("compact_cleanup", engine.Typed(cl.Handle))
	eng.Tasks().Register("list_partitions", engine.Typed(ls.Handle))
	x, err := eng.Execute(context.Background(), engine.StartInput{Machine: m, StateMachineName: CompactionName, Name: "backfill-1", Input: input})
	if err != nil {
		t.Fatal(err)
	}
	return compactionRun{x: x, store: st, cat: cat, notifier: n, distinct: distinct}
}

func (r compactionRun) location(t *testing.T, typ, dt string) string {
	t.Helper()
	p, err := r.cat.GetPartition(context.Background(), "elt", typ, []string{dt})
	if fault.Is(err, fault.NotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return p.Location
}

func (r compactionRun) silverFiles(t *testing.T, typ, dt string) int {
	t.Helper()
	page, err := r.store.List(context.Background(), compactionBucket, objstore.ListOptions{Prefix: "silver/" + typ + "/dt=" + dt + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Objects)
}

func TestCompactionBackfillOnEngine(t *testing.T) {
	partitions := []string{"invoice_lines/2024-05-01", "invoice_lines/2024-05-02", "shipments/2024-05-01", "shipments/2024-05-02"}

	t.Run("range with cleanup", func(t *testing.T) {
		r := runCompaction(t, `{"silver_bucket":"silver","record_types":["shipments","invoice_lines"],
			"dt_from":"2024-04-01","dt_to":"2024-05-31","target_file_bytes":8192,"cleanup":true}`, nil)
		if r.x.Status != "SUCCEEDED" {
			t.Fatalf("status %s %s: %s", r.x.Status, r.x.Error, r.x.Cause)
		}
		var out struct {
			Partitions int      `json:"partitions"`
			Compacted  []string `json:"compacted"`
		}
		if err := json.Unmarshal([]byte(*r.x.Output), &out); err != nil {
			t.Fatal(err)
		}
		if out.Partitions != 4 || len(out.Compacted) != 4 {
			t.Fatalf("output %s", *r.x.Output)
		}
		for _, p := range partitions {
			typ, dt, _ := strings.Cut(p, "/")
			key := "silver_compacted/" + typ + "/dt=" + dt + "/backfill-1/_manifest.json"
			if !slices.Contains(out.Compacted, key) {
				t.Fatalf("%s not in %v", key, out.Compacted)
			}
			m, err := compact.ReadManifest(context.Background(), r.store, compactionBucket, key)
			if err != nil || m == nil {
				t.Fatalf("manifest %s: %v", key, err)
			}
			if m.OutputRows != r.distinct[p] || len(m.Outputs) >= len(m.Inputs) || m.DuplicatesRemoved == 0 {
				t.Fatalf("%s: %d rows (want %d), %d inputs -> %d outputs, %d duplicates removed", p, m.OutputRows, r.distinct[p], len(m.Inputs), len(m.Outputs), m.DuplicatesRemoved)
			}
			if loc := r.location(t, typ, dt); loc != m.Location {
				t.Fatalf("%s: catalog at %s, want %s", p, loc, m.Location)
			}
			if n := r.silverFiles(t, typ, dt); n != 0 {
				t.Fatalf("%s: %d superseded silver files left after cleanup", p, n)
			}
		}
		if len(r.notifier.messages) != 0 {
			t.Fatalf("notified: %v", r.notifier.messages)
		}
	})

	t.Run("explicit partitions, no cleanup, transient store error retried", func(t *testing.T) {
		var flaky *flakyList
		r := runCompaction(t, `{"silver_bucket":"silver","partitions":[{"record_type":"shipments","dt":"2024-05-02"},{"record_type":"shipments","dt":"2024-06-01"}]}`,
			func(st *fsstore.Store) objstore.Store { flaky = &flakyList{Store: st, n: 1}; return flaky })
		if r.x.Status != "SUCCEEDED" {
			t.Fatalf("status %s %s: %s", r.x.Status, r.x.Error, r.x.Cause)
		}
		if !strings.Contains(*r.x.Output, `"partitions":2`) || !strings.Contains(*r.x.Output, `"compacted":["silver_compacted/shipments/dt=2024-05-02/backfill-1/_manifest.json"]`) {
			t.Fatalf("output %s", *r.x.Output)
		}
		if r.location(t, "shipments", "2024-05-01") != "" || r.location(t, "shipments", "2024-06-01") != "" {
			t.Fatal("a partition outside the list was switched")
		}
		if r.silverFiles(t, "shipments", "2024-05-02") == 0 {
			t.Fatal("inputs removed without cleanup")
		}
		if flaky.n >= 0 {
			t.Fatal("the transient listing failure was not hit")
		}
	})

	t.Run("corrupt input fails and notifies", func(t *testing.T) {
		r := runCompaction(t, `{"silver_bucket":"silver","record_type":"shipments","dt_from":"2024-05-01","dt_to":"2024-05-01"}`,
			func(st *fsstore.Store) objstore.Store {
				if _, err := st.Put(context.Background(), compactionBucket, "silver/shipments/dt=2024-05-01/part-zz.parquet", strings.NewReader("not parquet"), nil); err != nil {
					t.Fatal(err)
				}
				return st
			})
		if r.x.Status != "FAILED" || r.x.Error != compact.ErrCorruptInput || !strings.Contains(r.x.Cause, "part-zz.parquet") {
			t.Fatalf("status %s error %s cause %s", r.x.Status, r.x.Error, r.x.Cause)
		}
		if len(r.notifier.messages) != 1 || !strings.Contains(r.notifier.subjects[0]+": "+r.notifier.messages[0], "elt compaction-backfill failed") {
			t.Fatalf("notifications %v", r.notifier.messages)
		}
		if loc := r.location(t, "shipments", "2024-05-01"); loc != "" {
			t.Fatalf("catalog switched to %s", loc)
		}
	})

	t.Run("invalid selection fails before any compaction", func(t *testing.T) {
		r := runCompaction(t, `{"silver_bucket":"silver","record_type":"shipments","dt_from":"2024-05-02","dt_to":"2024-05-01"}`, nil)
		if r.x.Status != "FAILED" || r.x.Error != compact.ErrInvalidInput || len(r.notifier.messages) != 1 {
			t.Fatalf("status %s error %s notifications %d", r.x.Status, r.x.Error, len(r.notifier.messages))
		}
	})
}

var _ catalog.Catalog = (*localcatalog.Catalog)(nil)
