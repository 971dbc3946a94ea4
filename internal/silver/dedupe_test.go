package silver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/records"
)

// The chunk writer decides whether a record's event_id is a duplicate one
// record late (see ChunkWriter.pending) and takes the row back out of its
// partition's batch. Checked against a map over thousands of records with
// duplicates next to each other, far apart, across batch
// boundaries, and as the only record of a partition (which then gets no
// file): every file holds exactly the first occurrences, in input order.
func TestDedupeMatchesFirstOccurrence(t *testing.T) {
	cases := []struct {
		name string
		n    int
		dup  float64 // share of records reusing an earlier id
		days int
	}{
		{"no duplicates", 3000, 0, 3},
		{"some duplicates", 5000, 0.2, 4},
		{"mostly duplicates", 4000, 0.9, 2},
		{"adjacent duplicates at batch ends", 3 * batchRows, -1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.n), 7))
			p := records.Default().NewParser()
			st := newStore(t)
			cw := NewChunkWriter(Source{Bucket: "raw", Key: "k", ETag: "e1"}, Options{Bucket: "lake", TempDir: t.TempDir(), ExpectedRecords: 64}, nil)
			seen := map[string]bool{}
			want := map[string][]int64{} // dt -> offsets of kept rows
			var ids []string
			dups := 0
			for i := 0; i < tc.n; i++ {
				id := fmt.Sprintf("e%d", i)
				switch {
				case tc.dup < 0 && i%batchRows == batchRows-1: // repeat the previous id across the flush point
					id = ids[len(ids)-1]
				case tc.dup > 0 && len(ids) > 0 && rng.Float64() < tc.dup:
					id = ids[rng.IntN(len(ids))]
				}
				ids = append(ids, id)
				day := 1 + rng.IntN(tc.days)
				if tc.days > 1 && i == tc.n-1 {
					day = 28 // a partition whose only record is a duplicate
					id = ids[0]
				}
				dt := fmt.Sprintf("2024-05-%02d", day)
				line := fmt.Sprintf(`{"record_type":"shipments","event_id":%q,"shipment_id":"S","origin":"A","destination":"B","carrier":"C","weight_kg":1,"event_time":"%sT10:00:00Z"}`, id, dt)
				var rec records.Record
				if err := p.Parse([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				if err := cw.Add(&rec, Position{Offset: int64(i), Index: -1}); err != nil {
					t.Fatal(err)
				}
				if seen[id] {
					dups++
					continue
				}
				seen[id] = true
				want[dt] = append(want[dt], int64(i))
			}
			s := cw.Stats()
			if s.Records != int64(tc.n) || s.Duplicates != int64(dups) || s.Rows != int64(tc.n-dups) {
				t.Fatalf("stats %+v, want %d records, %d duplicates", s, tc.n, dups)
			}
			ws, err := cw.Commit(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			var dts []string
			for dt := range want {
				dts = append(dts, dt)
			}
			sort.Strings(dts)
			if len(ws) != len(dts) {
				t.Fatalf("%d files, want %d (%v): %+v", len(ws), len(dts), dts, ws)
			}
			for i, w := range ws {
				if w.Dt != dts[i] || w.Rows != int64(len(want[w.Dt])) {
					t.Fatalf("file %+v, want dt %s with %d rows", w, dts[i], len(want[dts[i]]))
				}
				got := readOffsets(t, st, w.Key)
				if fmt.Sprint(got) != fmt.Sprint(want[w.Dt]) {
					t.Fatalf("dt %s: offsets differ (got %d rows, want %d)", w.Dt, len(got), len(want[w.Dt]))
				}
			}
		})
	}
}

// readOffsets returns the source_offset column of a silver file, in order.
func readOffsets(t *testing.T, st interface {
	Path(bucket, key string) (string, error)
}, key string) []int64 {
	t.Helper()
	pf := openParquet(t, st, key)
	col := -1
	for i, c := range pf.Schema().Fields() {
		if c.Name() == ColSourceOffset {
			col = i
		}
	}
	var out []int64
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 256)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				out = append(out, r[col].Int64())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
	}
	return out
}
