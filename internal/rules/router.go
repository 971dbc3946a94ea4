package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/bus"
)

// Executions is what rule and schedule targets need from Step Functions.
type Executions interface {
	// Start starts an execution of the state machine (by name). A name
	// already used returns an error wrapping engine.ErrExecutionAlreadyExists.
	Start(ctx context.Context, stateMachine, name, input string) error
	// Exists reports whether the state machine has an execution called name.
	Exists(ctx context.Context, stateMachine, name string) (bool, error)
	// Running lists the RUNNING executions of the state machine.
	Running(ctx context.Context, stateMachine string) ([]engine.Execution, error)
}

// EngineExecutions starts executions on a local engine.
type EngineExecutions struct{ Engine *engine.Engine }

// Start implements Executions.
func (e EngineExecutions) Start(ctx context.Context, sm, name, input string) error {
	_, err := e.Engine.StartExecution(ctx, engine.StartInput{StateMachineArn: engine.StateMachineArn(sm), Name: name, Input: input})
	return err
}

// Exists implements Executions.
func (e EngineExecutions) Exists(ctx context.Context, sm, name string) (bool, error) {
	_, err := e.Engine.Store().GetExecution(ctx, engine.ExecutionArn(sm, name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, engine.ErrExecutionDoesNotExist):
		return false, nil
	}
	return false, err
}

// Running implements Executions.
func (e EngineExecutions) Running(ctx context.Context, sm string) ([]engine.Execution, error) {
	xs, err := e.Engine.Store().ListExecutions(ctx, engine.StateMachineArn(sm))
	if err != nil {
		return nil, err
	}
	var out []engine.Execution
	for _, x := range xs {
		if x.Status == engine.StatusRunning {
			out = append(out, x)
		}
	}
	return out, nil
}

// Target acts on an event a rule matched. Deliver must be idempotent per
// event: delivery is at-least-once.
type Target interface {
	Deliver(ctx context.Context, envelope map[string]any, ev bus.Event) error
}

// Rule is a compiled rule: a pattern and a target.
type Rule struct {
	Name    string
	Pattern *Pattern
	Target  Target
}

// EventID is a deterministic id for an event that has none: a hash of its
// source, detail type, time, resources and detail, so a redelivered event
// gets the same id (and the same execution name).
func EventID(ev bus.Event) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", ev.Source, ev.DetailType, ev.Time.UTC().Format("2006-01-02T15:04:05.999999999Z"), strings.Join(ev.Resources, ","))
	h.Write(ev.Detail)
	s := hex.EncodeToString(h.Sum(nil))
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// Deliver hands the event to the rule's target if the pattern matches; it
// reports whether it matched.
func (r Rule) Deliver(ctx context.Context, ev bus.Event) (bool, error) {
	env, err := Envelope(ev, EventID(ev))
	if err != nil {
		return false, nil // a malformed event matches no rule
	}
	if !r.Pattern.Match(env) {
		return false, nil
	}
	if err := r.Target.Deliver(ctx, env, ev); err != nil {
		return true, fmt.Errorf("rule %s: %w", r.Name, err)
	}
	return true, nil
}

// StartExecution is EventBridge's Step Functions target: the whole event
// envelope is the execution input. The execution name is the rule name and
// the event id, so a redelivered event is a no-op.
type StartExecution struct {
	Exec         Executions
	StateMachine string
	RuleName     string
	Log          *slog.Logger
}

// Deliver implements Target.
func (t *StartExecution) Deliver(ctx context.Context, env map[string]any, _ bus.Event) error {
	id, _ := env["id"].(string)
	prefix := safeName(t.RuleName)
	if len(prefix) > maxNameLen-1-len(id) {
		prefix = prefix[:maxNameLen-1-len(id)]
	}
	name := prefix + "-" + safeName(id)
	in, err := json.Marshal(env)
	if err != nil {
		return err
	}
	err = t.Exec.Start(ctx, t.StateMachine, name, string(in))
	if errors.Is(err, engine.ErrExecutionAlreadyExists) {
		return nil
	}
	if err == nil && t.Log != nil {
		t.Log.Info("rule.execution_started", "rule", t.RuleName, "state_machine", t.StateMachine, "name", name)
	}
	return err
}

// QualityGate is the partition-ready target: it starts the quality gate
// for the event's partition under QualityGateExecutionName, at most one
// run per partition at a time.
//
// While a run for the partition is RUNNING, new events for it are parked
// in PendingDir and coalesced (the union of their files, one pending entry
// per partition); Flush starts the coalesced run, named from that union,
// once no run of the partition is RUNNING. The gate evaluates the whole
// partition, so one follow-up run covers every event that arrived during
// the previous one. Pending entries are files, so they survive a restart.
// A duplicate event (its execution name already used) is a no-op.
type QualityGate struct {
	Exec         Executions
	StateMachine string // default "quality-gate"
	// SilverPrefix is the silver root used when an event's prefix does not
	// show it (default "silver/").
	SilverPrefix string
	// PendingDir keeps coalesced events (e.g. <data-dir>/rules/pending).
	PendingDir string
	Log        *slog.Logger

	mu sync.Mutex
}

func (q *QualityGate) sm() string {
	if q.StateMachine == "" {
		return "quality-gate"
	}
	return q.StateMachine
}

func (q *QualityGate) log() *slog.Logger {
	if q.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return q.Log
}

// pendingRun is a parked, coalesced partition.
type pendingRun struct {
	Event  bus.PartitionReady `json:"event"`
	Events int                `json:"events"`
	// RetryOf names an aborted run this entry re-runs (Requeue); while no
	// event's files were added, the run is named after it.
	RetryOf string `json:"retry_of,omitempty"`
}

func (q *QualityGate) pendingPath(recordType, dt string) string {
	return filepath.Join(q.PendingDir, QualityGateNamePrefix(recordType, dt)+"pending.json")
}

func (q *QualityGate) loadPending(path string) (*pendingRun, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pending %s: %w", path, err)
	}
	var p pendingRun
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode pending %s: %w", path, err)
	}
	return &p, nil
}

func (q *QualityGate) savePending(path string, p *pendingRun) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write pending %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// runningFor is the name of a RUNNING quality-gate execution whose input
// names the partition ("" if none). Matching on the input, not the name,
// also sees runs started by hand (`elt ge start`).
func (q *QualityGate) runningFor(ctx context.Context, recordType, dt string) (string, error) {
	xs, err := q.Exec.Running(ctx, q.sm())
	if err != nil {
		return "", fmt.Errorf("list running %s executions: %w", q.sm(), err)
	}
	for _, x := range xs {
		var in struct {
			RecordType string `json:"record_type"`
			Dt         string `json:"dt"`
		}
		if json.Unmarshal([]byte(x.Input), &in) == nil && in.RecordType == recordType && in.Dt == dt {
			return x.Name, nil
		}
	}
	return "", nil
}

func (q *QualityGate) start(ctx context.Context, d bus.PartitionReady) (string, error) {
	return q.startNamed(ctx, d, QualityGateExecutionName(d))
}

func (q *QualityGate) startNamed(ctx context.Context, d bus.PartitionReady, name string) (string, error) {
	in, _ := json.Marshal(QualityGateInput(d, q.silverPrefix()))
	err := q.Exec.Start(ctx, q.sm(), name, string(in))
	if errors.Is(err, engine.ErrExecutionAlreadyExists) {
		q.log().Info("quality_gate.duplicate", "name", name)
		return name, nil
	}
	if err != nil {
		return "", fmt.Errorf("start %s %s: %w", q.sm(), name, err)
	}
	q.log().Info("quality_gate.started", "name", name, "record_type", d.RecordType, "dt", d.Dt, "files", len(d.Files))
	return name, nil
}

func (q *QualityGate) silverPrefix() string {
	if q.SilverPrefix == "" {
		return "silver/"
	}
	return q.SilverPrefix
}

// Deliver implements Target.
func (q *QualityGate) Deliver(ctx context.Context, _ map[string]any, ev bus.Event) error {
	var d bus.PartitionReady
	if err := json.Unmarshal(ev.Detail, &d); err != nil || d.RecordType == "" || d.Dt == "" || d.Bucket == "" {
		q.log().Warn("quality_gate.bad_event", "detail", string(ev.Detail))
		return nil // retrying cannot fix it
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	name := QualityGateExecutionName(d)
	exists, err := q.Exec.Exists(ctx, q.sm(), name)
	if err != nil {
		return err
	}
	if exists {
		q.log().Info("quality_gate.duplicate", "name", name)
		return nil
	}
	running, err := q.runningFor(ctx, d.RecordType, d.Dt)
	if err != nil {
		return err
	}
	path := q.pendingPath(d.RecordType, d.Dt)
	p, err := q.loadPending(path)
	if err != nil {
		return err
	}
	if running == "" && p == nil {
		_, err := q.start(ctx, d)
		return err
	}
	p = coalesce(p, d)
	if err := q.savePending(path, p); err != nil {
		return err
	}
	if running != "" {
		q.log().Info("quality_gate.deferred", "record_type", d.RecordType, "dt", d.Dt, "running", running, "coalesced_events", p.Events)
		return nil
	}
	return q.flushOne(ctx, path, p)
}

// coalesce merges an event into a pending run: the union of the files.
func coalesce(p *pendingRun, d bus.PartitionReady) *pendingRun {
	if p == nil {
		d.Files = append([]string(nil), d.Files...)
		sort.Strings(d.Files)
		return &pendingRun{Event: d, Events: 1}
	}
	seen := map[string]bool{}
	for _, f := range p.Event.Files {
		seen[f] = true
	}
	added := false
	for _, f := range d.Files {
		if !seen[f] {
			seen[f] = true
			p.Event.Files = append(p.Event.Files, f)
			added = true
		}
	}
	sort.Strings(p.Event.Files)
	if added {
		p.Event.Rows += d.Rows
		p.Events++
	}
	return p
}

func (q *QualityGate) flushOne(ctx context.Context, path string, p *pendingRun) error {
	name := QualityGateExecutionName(p.Event)
	if p.RetryOf != "" && len(p.Event.Files) == 0 {
		name = RetryExecutionName(p.Event.RecordType, p.Event.Dt, p.RetryOf)
	}
	if _, err := q.startNamed(ctx, p.Event, name); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove pending %s: %w", path, err)
	}
	return nil
}

// Flush starts the parked run of every partition with no RUNNING run and
// returns how many it started. `elt up` calls it every few seconds.
func (q *QualityGate) Flush(ctx context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	files, err := filepath.Glob(filepath.Join(q.PendingDir, "*pending.json"))
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, path := range files {
		p, err := q.loadPending(path)
		if err != nil || p == nil {
			errs = append(errs, err)
			continue
		}
		running, err := q.runningFor(ctx, p.Event.RecordType, p.Event.Dt)
		if err != nil {
			return n, err
		}
		if running != "" {
			continue
		}
		if err := q.flushOne(ctx, path, p); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Pending lists the parked partitions (for status output and tests).
func (q *QualityGate) Pending() ([]bus.PartitionReady, error) {
	files, err := filepath.Glob(filepath.Join(q.PendingDir, "*pending.json"))
	if err != nil {
		return nil, err
	}
	var out []bus.PartitionReady
	for _, f := range files {
		p, err := q.loadPending(f)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p.Event)
		}
	}
	return out, nil
}

// RetryExecutionName names the re-run of an aborted quality-gate run:
// the partition's prefix and a hash of the aborted run's name, so
// requeueing the same run twice starts it once.
func RetryExecutionName(recordType, dt, abortedName string) string {
	sum := sha256.Sum256([]byte("retry\n" + abortedName))
	return QualityGateNamePrefix(recordType, dt) + hex.EncodeToString(sum[:])[:12]
}

// Requeue parks a fresh run for the partition of a quality-gate execution
// that was aborted because its process stopped (`elt up` shutting down, or
// a killed process), so the partition is gated after all: the next Flush
// with no run of the partition RUNNING starts it. It reports false for an
// execution of another state machine or whose input names no partition.
func (q *QualityGate) Requeue(x engine.Execution) (bool, error) {
	var in struct {
		RecordType   string `json:"record_type"`
		Dt           string `json:"dt"`
		SilverBucket string `json:"silver_bucket"`
		SilverPrefix string `json:"silver_prefix"`
	}
	if x.StateMachineArn != engine.StateMachineArn(q.sm()) {
		return false, nil
	}
	if err := json.Unmarshal([]byte(x.Input), &in); err != nil || in.RecordType == "" || in.Dt == "" || in.SilverBucket == "" {
		return false, nil
	}
	if in.SilverPrefix == "" {
		in.SilverPrefix = q.silverPrefix()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	path := q.pendingPath(in.RecordType, in.Dt)
	p, err := q.loadPending(path)
	if err != nil {
		return false, err
	}
	if p != nil {
		return true, nil // a run for the partition is parked already
	}
	d := bus.PartitionReady{Bucket: in.SilverBucket, RecordType: in.RecordType, Dt: in.Dt, Prefix: in.SilverPrefix + in.RecordType + "/dt=" + in.Dt + "/"}
	q.log().Info("quality_gate.requeued", "aborted", x.Name, "record_type", in.RecordType, "dt", in.Dt)
	return true, q.savePending(path, &pendingRun{Event: d, RetryOf: x.Name})
}
