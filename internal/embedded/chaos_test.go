package embedded

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/faultinject"
	"github.com/serverless-elt/elt/internal/ledger/boltledger"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/queue"
	"github.com/serverless-elt/elt/internal/queue/boltqueue"
)

// chaosInput is bronze data with a known answer: every good record has a
// unique event_id; bad ones are counted.
type chaosInput struct {
	objects map[string][]byte // key -> body
	good    map[string]bool   // event ids expected in silver
	bad     int
}

func makeChaosInput(seed uint64) chaosInput {
	rng := rand.New(rand.NewPCG(seed, 7))
	in := chaosInput{objects: map[string][]byte{}, good: map[string]bool{}}
	n := 0
	// inArray: bad records inside a JSON array stay valid JSON (a broken
	// array is one unreadable document, a decoder concern tested there).
	record := func(typ string, inArray bool) (string, bool) {
		n++
		id := fmt.Sprintf("%s-%05d", typ, n)
		day := 1 + rng.IntN(3)
		ts := fmt.Sprintf("2025-01-%02dT%02d:%02d:00+02:00", day, rng.IntN(24), rng.IntN(60))
		if rng.IntN(100) < 6 { // a bad record, of one of several kinds
			in.bad++
			kind := rng.IntN(4)
			if inArray && kind == 0 {
				kind = 1 + rng.IntN(3)
			}
			switch kind {
			case 0:
				return `{"record_type":"` + typ + `","event_id":"` + id + `",`, false // malformed
			case 1:
				return `{"record_type":"pallets","event_id":"` + id + `","event_time":"` + ts + `"}`, false // unknown type
			case 2:
				return `{"record_type":"` + typ + `","event_id":"` + id + `"}`, false // missing fields
			default:
				return `[1,2,3]`, false // not an object
			}
		}
		in.good[id] = true
		var m map[string]any
		switch typ {
		case "shipments":
			m = map[string]any{"shipment_id": fmt.Sprintf("S%d", rng.IntN(1000)), "origin": "Lyon", "destination": "Oslo", "carrier": "DHL", "weight_kg": float64(rng.IntN(5000)) / 10}
		case "tracking_events":
			m = map[string]any{"shipment_id": fmt.Sprintf("S%d", rng.IntN(1000)), "status": "in_transit", "city": "Bern"}
		default:
			q := rng.IntN(20) - 2
			m = map[string]any{"invoice_id": fmt.Sprintf("I%d", rng.IntN(1000)), "sku": "SKU-1", "quantity": q, "unit_price": 2.5, "line_total": 2.5 * float64(q)}
		}
		m["record_type"], m["event_id"], m["event_time"] = typ, id, ts
		b, _ := json.Marshal(m)
		return string(b), true
	}
	lines := func(typ string, count int, inArray bool) []string {
		var ls []string
		for range count {
			l, _ := record(typ, inArray)
			ls = append(ls, l)
		}
		return ls
	}
	for i, typ := range []string{"shipments", "tracking_events", "invoice_lines"} {
		for j := range 2 {
			in.objects[fmt.Sprintf("bronze/%s/dt=2025-01-0%d/part %d.jsonl", typ, i+1, j)] = []byte(strings.Join(lines(typ, 80, false), "\n") + "\n")
		}
	}
	in.objects["bronze/shipments/array.json"] = []byte("[" + strings.Join(lines("shipments", 40, true), ",\n") + "]")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines("tracking_events", 40, false), "\r\n")))
	zw.Close()
	in.objects["bronze/tracking_events/z.jsonl.gz"] = gz.Bytes()
	return in
}

// chaosStack opens the stack on dir with the faultinject wrappers around
// the object store, queue and ledger: one "process" of the chaos run.
func chaosStack(t *testing.T, dir string, clock *virtualClock, inj *faultinject.Injector, owner string) *Stack {
	t.Helper()
	cfg := Config{
		DataDir: dir, ChunkBytes: 2048, Owner: owner, TransformConcurrency: 1,
		Now: clock.Now, Sleep: clock.Sleep, Log: discardLog(), MaxIdleRounds: 400,
	}.WithDefaults()
	st, err := OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	q, err := boltqueue.Open(filepath.Join(dir, "queue.db"), boltqueue.Options{MaxReceiveCount: cfg.MaxReceiveCount, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	l, err := boltledger.Open(filepath.Join(dir, "ledger.db"), boltledger.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := localbus.Open(filepath.Join(dir, "bus", "events.jsonl"), localbus.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	fst := faultinject.Store(st, inj)
	s, err := New(cfg, Backends{
		Store: fst, Queue: faultinject.Queue(q, inj), Ledger: faultinject.Ledger(l, inj), Bus: b,
		Closers: []io.Closer{q, l, b},
	}, Handlers{
		Plan:      chunk.Plan,
		Transform: func(b bus.Bus) (TransformFunc, error) { return newTransform(cfg, fst, b) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestChaos runs the pipeline while the object store, queue and ledger fail
// (transient errors, lost responses, partial batch sends, short reads),
// messages are redelivered (failed deletes) and the process crashes at
// chosen points and restarts from the same data dir. At the end every input
// record is in silver or quarantine, exactly once.
func TestChaos(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runChaos(t, seed) })
	}
}

func runChaos(t *testing.T, seed uint64) {
	ctx := t.Context()
	dir := chaosDir(t)
	clock := newVirtualClock()
	input := makeChaosInput(seed)
	inj := faultinject.New(seed,
		// Crashes at chosen points: mid-commit of a silver file, after a
		// message was sent but before ingest completes its claim, after a
		// delete landed, before a claim completes, mid-scan.
		faultinject.Rule{Op: faultinject.OpPut, Nth: 5, Kind: faultinject.Crash, When: faultinject.After},
		faultinject.Rule{Op: faultinject.OpSendBatch, Nth: 3, Kind: faultinject.Crash, When: faultinject.After},
		faultinject.Rule{Op: faultinject.OpDeleteMessage, Nth: 7, Kind: faultinject.Crash, When: faultinject.After},
		faultinject.Rule{Op: faultinject.OpComplete, Nth: 4, Kind: faultinject.Crash},
		faultinject.Rule{Op: faultinject.OpGet, Nth: 20, Kind: faultinject.Crash},
		faultinject.Rule{Op: faultinject.OpList, Nth: 6, Kind: faultinject.Crash},
		faultinject.Rule{Op: "*", Prob: 0.002, Kind: faultinject.Crash, Times: 3},
		// Forced redeliveries: deletes that do not happen.
		faultinject.Rule{Op: faultinject.OpDeleteMessage, Prob: 0.15},
		// Partial batch sends and reads that break half way.
		faultinject.Rule{Op: faultinject.OpSendBatch, Prob: 0.3, Kind: faultinject.PartialBatch},
		faultinject.Rule{Op: faultinject.OpGet, Prob: 0.05, Kind: faultinject.ShortRead},
		// Lost responses and plain transient errors everywhere.
		faultinject.Rule{Op: "*", Prob: 0.03, When: faultinject.After},
		faultinject.Rule{Op: "*", Prob: 0.05},
	)

	// Upload through a clean store (the producer is not part of the chaos).
	st, err := OpenStore(Config{DataDir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for k, body := range input.objects {
		if _, err := st.Put(ctx, "bronze", k, bytes.NewReader(body), nil); err != nil {
			t.Fatal(err)
		}
	}

	restarts, failedRuns := 0, 0
	s := chaosStack(t, dir, clock, inj, "process-0")
	for attempt := 0; ; attempt++ {
		if attempt > 300 {
			t.Fatalf("no convergence after %d attempts (%d restarts)", attempt, restarts)
		}
		_, err := s.RunUntilIdle(ctx)
		if inj.Crashed() {
			// The process died: nothing more reaches the backends. Close
			// (the OS releasing the files) and start a new process.
			s.Close()
			inj.Restart()
			restarts++
			s = chaosStack(t, dir, clock, inj, fmt.Sprint("process-", restarts))
			continue
		}
		if err == nil {
			break
		}
		failedRuns++
	}
	// Faults off: finish, redrive what reached the DLQ (the operator's
	// move), and finish again.
	inj.SetEnabled(false)
	if _, err := s.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	redriven, err := s.Queue().(queue.DeadLettered).Redrive(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	inv, err := s.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	events := inj.Events()
	kinds := map[string]int{}
	for _, e := range events {
		kinds[e.Kind.String()+" "+e.When.String()]++
	}
	t.Logf("seed %d: %d faults %v, %d restarts, %d failed runs, %d redriven, virtual time %v",
		seed, len(events), kinds, restarts, failedRuns, redriven, clock.Now().Sub(newVirtualClock().Now()))
	if restarts < 3 {
		t.Errorf("only %d crashes happened; the test is not exercising restarts", restarts)
	}

	ids := silverEventIDs(t, st)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("event_id %s is %d times in silver", id, n)
		}
		if !input.good[id] {
			t.Errorf("event_id %s in silver is not a good input record", id)
		}
	}
	for id := range input.good {
		if seen[id] == 0 {
			t.Errorf("event_id %s missing from silver", id)
		}
	}
	total := int64(len(input.good) + input.bad)
	if inv.SilverRows != int64(len(ids)) {
		t.Errorf("inventory silver rows %d, read %d", inv.SilverRows, len(ids))
	}
	if inv.SilverRows+inv.Quarantined != total || inv.Quarantined != int64(input.bad) {
		t.Errorf("silver %d + quarantined %d != input %d (%d bad)", inv.SilverRows, inv.Quarantined, total, input.bad)
	}
	if inv.Queue != (queue.Depth{}) || inv.DLQ != (queue.Depth{}) {
		t.Errorf("queue %+v dlq %+v", inv.Queue, inv.DLQ)
	}
}

// chaosDir is the data dir of a chaos run: in memory (/dev/shm) when the
// machine has it. The crashes here are simulated (calls stop reaching the
// backends), not power losses, so fsync durability is not under test, and
// on a disk the run's thousands of fsyncs take most of its time.
func chaosDir(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "elt-chaos-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// silverEventIDs reads the event_id column of every silver Parquet file.
func silverEventIDs(t *testing.T, st objstore.Store) []string {
	t.Helper()
	var ids []string
	err := eachObject(t.Context(), st, "silver", "silver/", func(o objstore.ObjectInfo) error {
		rc, _, err := st.Get(t.Context(), o.Bucket, o.Key, nil)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
		col, ok := f.Schema().Lookup("event_id")
		if !ok {
			return errors.New(o.Key + ": no event_id column")
		}
		for _, rg := range f.RowGroups() {
			rows := rg.Rows()
			buf := make([]parquet.Row, 64)
			for {
				n, err := rows.ReadRows(buf)
				for _, r := range buf[:n] {
					for _, v := range r {
						if v.Column() == col.ColumnIndex {
							ids = append(ids, v.String())
						}
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					rows.Close()
					return fmt.Errorf("%s: %w", o.Key, err)
				}
			}
			rows.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
