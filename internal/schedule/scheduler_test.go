package schedule

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(s string)   { c.mu.Lock(); c.t = ts(s); c.mu.Unlock() }

type recorder struct {
	slots []time.Time
	fail  error
}

func (r *recorder) fire(_ context.Context, slot time.Time) error {
	if r.fail != nil {
		return r.fail
	}
	r.slots = append(r.slots, slot)
	return nil
}

func mustParse(t *testing.T, e string) Schedule {
	t.Helper()
	s, err := Parse(e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newSched(t *testing.T, path string, clock *fakeClock, entries ...Entry) *Scheduler {
	t.Helper()
	s, err := New(entries, Options{StatePath: path, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchedulerFiresDueSlotsOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "schedules.state.json")
	clock := &fakeClock{}
	clock.Set("2026-11-26T01:30")
	var daily recorder
	entry := Entry{Name: "ops-daily", Schedule: mustParse(t, "cron(0 3 * * ? *)"), Fire: daily.fire}
	s := newSched(t, path, clock, entry)

	steps := []struct {
		at   string
		want []string // slots fired by this tick
	}{
		{"2026-11-26T01:30", nil}, // first sight: nothing before creation fires
		{"2026-11-26T02:59", nil},
		{"2026-11-26T03:00", []string{"2026-11-26T03:00"}},
		{"2026-11-26T03:00", nil}, // same slot again: no
		{"2026-11-26T17:00", nil},
		{"2026-11-27T03:00", []string{"2026-11-27T03:00"}},
	}
	for i, st := range steps {
		clock.Set(st.at)
		before := len(daily.slots)
		fired, err := s.Tick(ctx)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := daily.slots[before:]
		if len(got) != len(st.want) || len(fired) != len(st.want) {
			t.Fatalf("step %d at %s: fired %v, want %v", i, st.at, got, st.want)
		}
		for j := range got {
			if !got[j].Equal(ts(st.want[j])) {
				t.Fatalf("step %d: slot %s, want %s", i, got[j], st.want[j])
			}
		}
	}

	// A restart (new scheduler on the same state file) at a time whose slot
	// was already fired does not fire it again.
	s2 := newSched(t, path, clock, entry)
	clock.Set("2026-11-27T03:00")
	if fired, _ := s2.Tick(ctx); len(fired) != 0 {
		t.Fatalf("restart re-fired %v", fired)
	}
	// Down for three days: the missed slots are coalesced into one firing
	// of the latest one.
	clock.Set("2026-11-30T12:00")
	fired, err := s2.Tick(ctx)
	if err != nil || len(fired) != 1 || !fired[0].Slot.Equal(ts("2026-11-30T03:00")) || fired[0].Missed != 2 {
		t.Fatalf("catch-up fired %+v, %v; want the 2026-11-30T03:00 slot with 2 missed", fired, err)
	}
	if n := s2.NextDue(); !n.Equal(ts("2026-12-01T03:00")) {
		t.Fatalf("NextDue = %s", n)
	}
}

func TestSchedulerRetriesFailedFire(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	clock := &fakeClock{}
	clock.Set("2026-11-26T10:00")
	clock.t = clock.t.Add(17 * time.Second) // anchored on the minute
	r := &recorder{fail: errors.New("engine down")}
	entry := Entry{Name: "every-5", Schedule: mustParse(t, "rate(5 minutes)"), Fire: r.fire}
	s := newSched(t, path, clock, entry)
	if _, err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	// The rate is anchored at first sight (10:00): slots 10:05, 10:10, ...
	clock.Set("2026-11-26T10:05")
	fired, _ := s.Tick(ctx)
	if len(fired) != 1 || fired[0].Err == nil {
		t.Fatalf("want one failed firing, got %+v", fired)
	}
	r.fail = nil
	// Restart: the anchor survived, and the failed slot is still due.
	s = newSched(t, path, clock, entry)
	clock.Set("2026-11-26T10:07")
	fired, _ = s.Tick(ctx)
	if len(fired) != 1 || fired[0].Err != nil || !fired[0].Slot.Equal(ts("2026-11-26T10:05")) {
		t.Fatalf("retry fired %+v", fired)
	}
	clock.Set("2026-11-26T10:10")
	if fired, _ = s.Tick(ctx); len(fired) != 1 || !fired[0].Slot.Equal(ts("2026-11-26T10:10")) {
		t.Fatalf("next slot fired %+v", fired)
	}
}

// A changed expression restarts the schedule from now instead of firing
// slots of the old one.
func TestSchedulerExpressionChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	clock := &fakeClock{}
	clock.Set("2026-11-26T10:00")
	var r recorder
	s := newSched(t, path, clock, Entry{Name: "x", Schedule: mustParse(t, "rate(1 hour)"), Fire: r.fire})
	s.Tick(ctx)
	clock.Set("2026-11-26T10:30")
	s = newSched(t, path, clock, Entry{Name: "x", Schedule: mustParse(t, "rate(1 day)"), Fire: r.fire})
	s.Tick(ctx)
	clock.Set("2026-11-26T11:00")
	s.Tick(ctx)
	if len(r.slots) != 0 {
		t.Fatalf("fired %v after the expression changed", r.slots)
	}
	clock.Set("2026-11-27T10:30")
	s.Tick(ctx)
	if len(r.slots) != 1 || !r.slots[0].Equal(ts("2026-11-27T10:30")) {
		t.Fatalf("fired %v", r.slots)
	}
}

func TestSchedulerRejectsBadEntries(t *testing.T) {
	fire := func(context.Context, time.Time) error { return nil }
	sch := mustParse(t, "rate(1 day)")
	for _, es := range [][]Entry{
		{{Name: "", Schedule: sch, Fire: fire}},
		{{Name: "a", Schedule: nil, Fire: fire}},
		{{Name: "a", Schedule: sch, Fire: fire}, {Name: "a", Schedule: sch, Fire: fire}},
	} {
		if _, err := New(es, Options{}); err == nil {
			t.Errorf("New(%+v) succeeded", es)
		}
	}
}

// Run sleeps until the next slot through the injected sleep.
func TestSchedulerRun(t *testing.T) {
	clock := &fakeClock{}
	clock.Set("2026-11-26T10:00")
	var r recorder
	s := newSched(t, "", clock, Entry{Name: "m", Schedule: mustParse(t, "cron(30 10 * * ? *)"), Fire: r.fire})
	ctx, cancel := context.WithCancel(context.Background())
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		clock.mu.Lock()
		clock.t = clock.t.Add(d)
		clock.mu.Unlock()
		if len(waits) == 3 {
			cancel()
		}
		return ctx.Err()
	}
	s.Run(ctx, sleep, time.Hour)
	if len(r.slots) != 1 || !r.slots[0].Equal(ts("2026-11-26T10:30")) {
		t.Fatalf("fired %v", r.slots)
	}
	if waits[0] != 30*time.Minute || waits[1] != time.Hour {
		t.Fatalf("waits %v", waits)
	}
}
