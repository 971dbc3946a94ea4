// Package faultinject wraps an object store, a queue and a ledger so that
// chosen calls fail: with a transient error, with a lost response (the
// operation happened but the caller sees an error), with a partial batch
// send, with a read that breaks half way, or with a simulated crash. It is
// for chaos tests of the hot path: they run the real handlers over wrapped
// backends and check that nothing is lost or duplicated.
//
// Faults fire by rule: on the Nth call of an operation, or with probability
// p drawn from the Injector's seeded random source (so a failing seed
// replays). A Crash models the process dying at that point: the call fails
// with ErrCrashed and so does every later call through any wrapper sharing
// the Injector (no deferred cleanup can reach the backends) until Restart,
// which is the process coming back.
package faultinject

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/serverless-elt/elt/internal/fault"
)

// Operation names, as rules match them.
const (
	OpGet              = "objstore.Get"
	OpHead             = "objstore.Head"
	OpPut              = "objstore.Put"
	OpCopy             = "objstore.Copy"
	OpDelete           = "objstore.Delete"
	OpList             = "objstore.List"
	OpSendBatch        = "queue.SendBatch"
	OpReceive          = "queue.Receive"
	OpDeleteMessage    = "queue.Delete"
	OpChangeVisibility = "queue.ChangeVisibility"
	OpDepth            = "queue.Depth"
	OpRedrive          = "queue.Redrive"
	OpClaim            = "ledger.Claim"
	OpComplete         = "ledger.Complete"
	OpRelease          = "ledger.Release"
)

// Kind is what a fault does.
type Kind int

const (
	// Error fails the call with a fault.Transient error.
	Error Kind = iota + 1
	// Crash fails the call with ErrCrashed and marks the Injector crashed.
	Crash
	// PartialBatch (queue.SendBatch only) reports a random non-empty subset
	// of the entries as failed (retryable, like SQS InternalError) and
	// sends the rest.
	PartialBatch
	// ShortRead (objstore.Get only) returns a body that fails with a
	// fault.Transient error half way through.
	ShortRead
)

func (k Kind) String() string {
	switch k {
	case Error:
		return "error"
	case Crash:
		return "crash"
	case PartialBatch:
		return "partial-batch"
	case ShortRead:
		return "short-read"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// When a fault fires relative to the real operation.
type When int

const (
	// Before: the operation does not happen.
	Before When = iota
	// After: the operation happens, then the caller gets the fault (a lost
	// response: the put landed, the message was sent or deleted, the claim
	// was written, but the caller cannot know).
	After
)

func (w When) String() string {
	if w == After {
		return "after"
	}
	return "before"
}

// Rule says when to inject a fault.
type Rule struct {
	// Op is the operation name (OpPut, ...), a prefix ending in ".*"
	// ("queue.*"), or "" / "*" for every operation.
	Op string
	// Nth fires on the Nth matching call (1-based, counted per operation).
	// When 0, Prob decides.
	Nth int
	// Prob fires with this probability on each matching call.
	Prob float64
	// Kind of fault; default Error.
	Kind Kind
	// When it fires; default Before. PartialBatch and ShortRead ignore it.
	When When
	// Times caps how often the rule fires (0: no cap).
	Times int
}

func (r Rule) matches(op string) bool {
	switch {
	case r.Op == "" || r.Op == "*":
	case strings.HasSuffix(r.Op, ".*"):
		if !strings.HasPrefix(op, strings.TrimSuffix(r.Op, "*")) {
			return false
		}
	case r.Op != op:
		return false
	}
	switch r.Kind {
	case PartialBatch:
		return op == OpSendBatch
	case ShortRead:
		return op == OpGet
	}
	return true
}

// Event records one injected fault.
type Event struct {
	Op   string
	Call int // the call number of Op it fired on
	Kind Kind
	When When
}

func (e Event) String() string { return fmt.Sprintf("%s #%d: %s %s", e.Op, e.Call, e.Kind, e.When) }

// ErrCrashed is the error of every call at and after a simulated crash.
var ErrCrashed = errors.New("faultinject: simulated crash")

// IsCrash reports whether err comes from a simulated crash.
func IsCrash(err error) bool { return errors.Is(err, ErrCrashed) }

// Injector decides which calls fail. It is safe for concurrent use; with
// one goroutine calling, a seed gives the same faults every run.
type Injector struct {
	mu       sync.Mutex
	rng      *rand.Rand
	rules    []*ruleState
	calls    map[string]int
	crashed  bool
	disabled bool
	events   []Event
}

type ruleState struct {
	Rule
	fired int
}

// New returns an injector with a seeded random source and rules.
func New(seed uint64, rules ...Rule) *Injector {
	in := &Injector{rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)), calls: map[string]int{}}
	in.Add(rules...)
	return in
}

// Add appends rules; the first rule that fires on a call wins.
func (in *Injector) Add(rules ...Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, r := range rules {
		if r.Kind == 0 {
			r.Kind = Error
		}
		in.rules = append(in.rules, &ruleState{Rule: r})
	}
}

// SetEnabled turns injection off (false) or on; a crash stays until Restart.
// Chaos tests switch it off for the final drain that must succeed.
func (in *Injector) SetEnabled(on bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.disabled = !on
}

// Crashed reports whether a simulated crash happened since the last Restart.
func (in *Injector) Crashed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.crashed
}

// Restart brings the simulated process back after a crash.
func (in *Injector) Restart() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.crashed = false
}

// Events returns the faults injected so far, in order.
func (in *Injector) Events() []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Event(nil), in.events...)
}

// Calls returns how many calls of op went through the wrappers.
func (in *Injector) Calls(op string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.calls[op]
}

// decision is what happens to one call.
type decision struct {
	kind Kind // 0: no fault
	when When
	dead bool // the process had already crashed
	op   string
	call int
}

func (in *Injector) decide(op string) decision {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.calls[op]++
	d := decision{op: op, call: in.calls[op]}
	if in.crashed {
		d.dead = true
		return d
	}
	if in.disabled {
		return d
	}
	for _, r := range in.rules {
		if !r.matches(op) || (r.Times > 0 && r.fired >= r.Times) {
			continue
		}
		fire := false
		if r.Nth > 0 {
			fire = d.call == r.Nth
		} else if r.Prob > 0 {
			fire = in.rng.Float64() < r.Prob
		}
		if !fire {
			continue
		}
		r.fired++
		d.kind, d.when = r.Kind, r.When
		if d.kind == PartialBatch || d.kind == ShortRead {
			d.when = Before
		}
		in.events = append(in.events, Event{Op: op, Call: d.call, Kind: d.kind, When: d.when})
		return d
	}
	return d
}

// markCrashed is called when a Crash fault takes effect.
func (in *Injector) markCrashed() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.crashed = true
}

// intn draws from the seeded source.
func (in *Injector) intn(n int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.IntN(n)
}

// before returns the error for a call whose fault fires before the
// operation (or nil to go ahead).
func (in *Injector) before(d decision) error {
	if d.dead {
		return fault.New(fault.Unknown, d.op, ErrCrashed)
	}
	if d.when != Before {
		return nil
	}
	return in.fail(d)
}

// after returns the error for a call whose fault fires after the operation.
func (in *Injector) after(d decision) error {
	if d.dead || d.when != After {
		return nil
	}
	return in.fail(d)
}

// onError is for a call whose operation failed on its own: a Crash meant to
// come after it still happens (the process dies whatever the result); an
// Error meant to come after it is moot, the caller sees the real error.
func (in *Injector) onError(d decision, err error) error {
	if !d.dead && d.kind == Crash && d.when == After {
		return in.fail(d)
	}
	return err
}

func (in *Injector) fail(d decision) error {
	switch d.kind {
	case Error:
		return fault.New(fault.Transient, d.op, fmt.Errorf("faultinject: injected error on call %d (%s)", d.call, d.when))
	case Crash:
		in.markCrashed()
		return fault.New(fault.Unknown, d.op, fmt.Errorf("call %d (%s): %w", d.call, d.when, ErrCrashed))
	}
	return nil
}
