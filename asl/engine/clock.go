package engine

import (
	"context"
	"sync"
	"time"
)

// Clock is where an execution's time comes from. Each execution path (the
// top level, a Parallel branch, a Map iteration) runs on its own Lane, so a
// virtual clock stays deterministic when branches wait concurrently: a
// branch's Wait advances only that branch's time, and the parent resumes at
// the latest of its children's times, as it would on AWS.
type Clock interface {
	// Start opens the lane of a new execution.
	Start() Lane
}

// Lane is one execution path's view of time.
type Lane interface {
	// Now is the lane's current time.
	Now() time.Time
	// Sleep lets d pass on the lane. It returns a *DeadlineError when a
	// deadline set with WithDeadline passes first (the lane's time is then
	// the deadline), or ctx.Err() when ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
	// Fork opens a child lane starting at this lane's time.
	Fork() Lane
	// Join moves this lane to the latest time of the given children.
	Join(children ...Lane)
	// WithDeadline makes Sleep fail with a DeadlineError named name once t
	// passes; the returned function removes the deadline.
	WithDeadline(t time.Time, name string) (remove func())
	// Virtual reports whether time on this lane is simulated.
	Virtual() bool
}

// DeadlineError reports that a lane deadline passed during a Sleep: Name is
// the ASL error (States.Timeout, States.HeartbeatTimeout) or the engine's
// execution-timeout marker.
type DeadlineError struct {
	Name string
	At   time.Time
}

func (e *DeadlineError) Error() string {
	return e.Name + ": deadline " + e.At.Format(time.RFC3339) + " passed"
}

type deadline struct {
	at   time.Time
	name string
	id   int
}

type deadlines struct {
	mu   sync.Mutex
	list []deadline
	next int
}

func (d *deadlines) add(t time.Time, name string) func() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	id := d.next
	d.list = append(d.list, deadline{at: t, name: name, id: id})
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		for i, x := range d.list {
			if x.id == id {
				d.list = append(d.list[:i], d.list[i+1:]...)
				return
			}
		}
	}
}

// earliest returns the first deadline, if any.
func (d *deadlines) earliest() (deadline, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var best deadline
	ok := false
	for _, x := range d.list {
		if !ok || x.at.Before(best.at) {
			best, ok = x, true
		}
	}
	return best, ok
}

func (d *deadlines) copyTo(o *deadlines) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o.list = append([]deadline(nil), d.list...)
	o.next = d.next
}

// VirtualClock simulates time: Wait states, retry back-off and timeouts
// advance instantly and deterministically from Epoch.
type VirtualClock struct {
	// Epoch is the start time of every execution. Zero means 2024-01-01T00:00:00Z.
	Epoch time.Time
	mu    sync.Mutex
	last  time.Time
}

// Start implements Clock. Executions started on the same VirtualClock begin
// at the latest time any earlier execution reached, so time never runs
// backwards across executions in one process.
func (c *VirtualClock) Start() Lane {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last.IsZero() {
		c.last = c.Epoch
		if c.last.IsZero() {
			c.last = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	return &virtualLane{clock: c, now: c.last}
}

func (c *VirtualClock) observe(t time.Time) {
	c.mu.Lock()
	if t.After(c.last) {
		c.last = t
	}
	c.mu.Unlock()
}

type virtualLane struct {
	clock *VirtualClock
	mu    sync.Mutex
	now   time.Time
	dl    deadlines
}

func (l *virtualLane) Virtual() bool { return true }

func (l *virtualLane) Now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *virtualLane) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d < 0 {
		d = 0
	}
	l.mu.Lock()
	target := l.now.Add(d)
	l.mu.Unlock()
	if dl, ok := l.dl.earliest(); ok && dl.at.Before(target) {
		l.set(dl.at)
		return &DeadlineError{Name: dl.name, At: dl.at}
	}
	l.set(target)
	return nil
}

func (l *virtualLane) set(t time.Time) {
	l.mu.Lock()
	if t.After(l.now) {
		l.now = t
	}
	l.mu.Unlock()
	l.clock.observe(t)
}

func (l *virtualLane) Fork() Lane {
	c := &virtualLane{clock: l.clock, now: l.Now()}
	l.dl.copyTo(&c.dl)
	return c
}

func (l *virtualLane) Join(children ...Lane) {
	for _, c := range children {
		l.set(c.Now())
	}
}

func (l *virtualLane) WithDeadline(t time.Time, name string) func() { return l.dl.add(t, name) }

// RealClock is wall-clock time: Wait states really wait. Used for
// long-running local executions (`elt sfn run --real-time`, `elt sfn serve`).
type RealClock struct{}

// Start implements Clock.
func (RealClock) Start() Lane { return &realLane{} }

type realLane struct {
	dl deadlines
}

func (l *realLane) Virtual() bool  { return false }
func (l *realLane) Now() time.Time { return time.Now().UTC() }

func (l *realLane) Sleep(ctx context.Context, d time.Duration) error {
	wake := time.Now().Add(d)
	name := ""
	if dl, ok := l.dl.earliest(); ok && dl.at.Before(wake) {
		wake, name = dl.at, dl.name
	}
	t := time.NewTimer(time.Until(wake))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		if name != "" {
			return &DeadlineError{Name: name, At: wake}
		}
		return nil
	}
}

func (l *realLane) Fork() Lane {
	c := &realLane{}
	l.dl.copyTo(&c.dl)
	return c
}

func (l *realLane) Join(...Lane) {}

func (l *realLane) WithDeadline(t time.Time, name string) func() { return l.dl.add(t, name) }

type laneKey struct{}

// withLane makes a lane reachable from a task handler's context.
func withLane(ctx context.Context, l Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, l)
}

// Sleep lets d pass on the execution's clock from inside a task handler: in
// a virtual-time run it returns at once having advanced the lane (so a task
// that "takes" 10 minutes can hit its TimeoutSeconds deterministically); in
// a real-time run it really sleeps. Outside an execution it sleeps for real.
func Sleep(ctx context.Context, d time.Duration) error {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok {
		return l.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Now is the execution's current time as seen from inside a task handler.
func Now(ctx context.Context) time.Time {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok {
		return l.Now()
	}
	return time.Now().UTC()
}
