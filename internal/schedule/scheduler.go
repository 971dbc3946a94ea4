package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Entry is one schedule the Scheduler fires.
type Entry struct {
	// Name identifies the schedule in the state file; unique.
	Name string
	// Schedule says when it fires. A Rate with a zero Anchor is anchored at
	// the time the Scheduler first saw the entry (persisted), as an
	// EventBridge rate starts when the rule is created.
	Schedule Schedule
	// Fire starts the schedule's target for one slot. It must be idempotent
	// per slot (e.g. a deterministic execution name): after a crash between
	// Fire and the state write, the slot is fired again.
	Fire func(ctx context.Context, slot time.Time) error
}

// Fired reports one firing.
type Fired struct {
	Name string
	Slot time.Time
	// Missed is how many earlier slots were coalesced into this firing
	// (the scheduler was not running when they were due).
	Missed int
	Err    error
}

// entryState is what the state file keeps per schedule.
type entryState struct {
	Expression string    `json:"expression"`
	Anchor     time.Time `json:"anchor"`
	// Last is the slot fired last (or the anchor before the first firing):
	// slots after it are due.
	Last time.Time `json:"last"`
}

type stateFile struct {
	Schedules map[string]entryState `json:"schedules"`
}

// Scheduler fires due entries. Time comes from Now, so tests drive it with
// a virtual clock and Tick. What was fired is kept in StatePath so that a
// restart neither fires a slot twice nor forgets the schedule's anchor.
//
// Missed slots (the process was down when they were due) are coalesced: the
// next Tick fires the most recent missed slot once, as a persistent cron
// (systemd's Persistent=true) does, rather than replaying every one of them.
type Scheduler struct {
	entries   []Entry
	statePath string
	now       func() time.Time
	log       *slog.Logger

	mu    sync.Mutex
	state stateFile
}

// Options configure a Scheduler.
type Options struct {
	// StatePath is the JSON file of last fire times ("" keeps them in memory).
	StatePath string
	Now       func() time.Time
	Log       *slog.Logger
}

// New returns a scheduler over entries, loading the state file.
func New(entries []Entry, o Options) (*Scheduler, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Name == "" || e.Schedule == nil || e.Fire == nil {
			return nil, fmt.Errorf("schedule entry %q: name, schedule and fire are required", e.Name)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("schedule entry %q: duplicate name", e.Name)
		}
		seen[e.Name] = true
	}
	s := &Scheduler{entries: entries, statePath: o.StatePath, now: o.Now, log: o.Log, state: stateFile{Schedules: map[string]entryState{}}}
	if o.StatePath != "" {
		b, err := os.ReadFile(o.StatePath)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("read schedule state: %w", err)
		default:
			if err := json.Unmarshal(b, &s.state); err != nil {
				return nil, fmt.Errorf("decode schedule state %s: %w", o.StatePath, err)
			}
			if s.state.Schedules == nil {
				s.state.Schedules = map[string]entryState{}
			}
		}
	}
	return s, nil
}

func (s *Scheduler) save() error {
	if s.statePath == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.state, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.statePath), 0o755); err != nil {
		return fmt.Errorf("write schedule state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.statePath), ".schedules-*")
	if err != nil {
		return fmt.Errorf("write schedule state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write schedule state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write schedule state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write schedule state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.statePath); err != nil {
		return fmt.Errorf("write schedule state: %w", err)
	}
	return nil
}

// schedule returns the entry's schedule with its persisted anchor, and
// its state, creating the state the first time the entry is seen (or when
// its expression changed).
func (s *Scheduler) prepare(e Entry, now time.Time) (Schedule, entryState, bool) {
	st, ok := s.state.Schedules[e.Name]
	changed := false
	if !ok || st.Expression != e.Schedule.String() {
		// Schedules have a one-minute precision: a rate runs on the
		// minute its schedule was first seen in.
		st = entryState{Expression: e.Schedule.String(), Anchor: now.UTC().Truncate(time.Minute), Last: now.UTC()}
		s.state.Schedules[e.Name] = st
		changed = true
	}
	sched := e.Schedule
	if r, ok := sched.(Rate); ok && r.Anchor.IsZero() {
		sched = r.WithAnchor(st.Anchor)
	}
	return sched, st, changed
}

// maxCatchUp bounds the walk over missed slots (rate(1 minute) over two
// months); past it the walk jumps to the latest slot directly.
const maxCatchUp = 100000

// Tick fires every entry with a slot due at Now (slot <= now) and returns
// what it fired. A failed Fire is reported and retried on the next Tick.
func (s *Scheduler) Tick(ctx context.Context) ([]Fired, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	var out []Fired
	dirty := false
	for _, e := range s.entries {
		if ctx.Err() != nil {
			break
		}
		sched, st, changed := s.prepare(e, now)
		dirty = dirty || changed
		slot := sched.Next(st.Last)
		if slot.IsZero() || slot.After(now) {
			continue
		}
		missed := 0
		for i := 0; i < maxCatchUp; i++ {
			n := sched.Next(slot)
			if n.IsZero() || n.After(now) {
				break
			}
			slot, missed = n, missed+1
		}
		f := Fired{Name: e.Name, Slot: slot, Missed: missed}
		if err := e.Fire(ctx, slot); err != nil {
			f.Err = err
			s.log.Warn("schedule.fire_failed", "schedule", e.Name, "slot", slot, "err", err)
			out = append(out, f)
			continue
		}
		s.log.Info("schedule.fired", "schedule", e.Name, "slot", slot, "missed", missed)
		st.Last = slot
		s.state.Schedules[e.Name] = st
		dirty = true
		out = append(out, f)
		// Persist after each firing, so a crash later in this tick does
		// not forget it.
		if err := s.save(); err != nil {
			return out, err
		}
		dirty = false
	}
	if dirty {
		if err := s.save(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// NextDue is the earliest upcoming slot over all entries after Now (zero
// when none will fire again).
func (s *Scheduler) NextDue() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	var best time.Time
	for _, e := range s.entries {
		sched, st, _ := s.prepare(e, now)
		n := sched.Next(st.Last)
		if n.IsZero() {
			continue
		}
		if best.IsZero() || n.Before(best) {
			best = n
		}
	}
	return best
}

// Run ticks until ctx ends, sleeping with sleep until the next slot (at
// most maxWait at a time, so a changed wall clock is noticed).
func (s *Scheduler) Run(ctx context.Context, sleep func(context.Context, time.Duration) error, maxWait time.Duration) error {
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("schedule.state_write_failed", "err", err)
		}
		wait := maxWait
		if n := s.NextDue(); !n.IsZero() {
			if d := n.Sub(s.now()); d < wait {
				// A slot whose Fire failed stays due: retry it a second
				// later rather than spinning.
				wait = max(d, time.Second)
			}
		}
		if err := sleep(ctx, wait); err != nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// Names lists the entries' names, sorted.
func (s *Scheduler) Names() []string {
	out := make([]string, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e.Name)
	}
	sort.Strings(out)
	return out
}
