package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Execution statuses, as DescribeExecution reports them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Execution is the record of one execution, shaped like DescribeExecution.
type Execution struct {
	ExecutionArn    string     `json:"executionArn"`
	StateMachineArn string     `json:"stateMachineArn"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	StartDate       time.Time  `json:"startDate"`
	StopDate        *time.Time `json:"stopDate,omitempty"`
	Input           string     `json:"input"`
	Output          *string    `json:"output,omitempty"`
	Error           string     `json:"error,omitempty"`
	Cause           string     `json:"cause,omitempty"`
	RedriveCount    int        `json:"redriveCount"`
}

// StateMachineRecord is a registered state machine (CreateStateMachine).
type StateMachineRecord struct {
	StateMachineArn string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Definition      string    `json:"definition"`
	RoleArn         string    `json:"roleArn"`
	Type            string    `json:"type"`
	CreationDate    time.Time `json:"creationDate"`
}

// Sentinel errors the API layer maps to Step Functions exceptions.
var (
	ErrExecutionAlreadyExists    = errors.New("ExecutionAlreadyExists")
	ErrExecutionDoesNotExist     = errors.New("ExecutionDoesNotExist")
	ErrStateMachineDoesNotExist  = errors.New("StateMachineDoesNotExist")
	ErrStateMachineAlreadyExists = errors.New("StateMachineAlreadyExists")
	ErrInvalidName               = errors.New("InvalidName")
	ErrInvalidArn                = errors.New("InvalidArn")
)

// Store keeps executions, their histories and registered state machines.
type Store interface {
	// CreateExecution records a new RUNNING execution and returns the
	// writer for its history; a second execution with the same name on the
	// same state machine fails with ErrExecutionAlreadyExists.
	CreateExecution(ctx context.Context, x Execution) (ExecutionWriter, error)
	GetExecution(ctx context.Context, executionArn string) (Execution, error)
	History(ctx context.Context, executionArn string) ([]Event, error)
	// ListExecutions returns a state machine's executions, newest first.
	ListExecutions(ctx context.Context, stateMachineArn string) ([]Execution, error)
	PutStateMachine(ctx context.Context, sm StateMachineRecord) error
	GetStateMachine(ctx context.Context, stateMachineArn string) (StateMachineRecord, error)
	ListStateMachines(ctx context.Context) ([]StateMachineRecord, error)
}

// ExecutionWriter records one running execution.
type ExecutionWriter interface {
	Event(e Event) error
	Update(x Execution) error
	Close() error
}

// ARN layout. The account is a fixed placeholder: local executions belong
// to no AWS account.
const (
	arnPrefix     = "arn:aws:states:"
	DefaultRegion = "us-east-1"
	LocalAccount  = "000000000000"
)

// StateMachineArn is the ARN of a local state machine.
func StateMachineArn(name string) string {
	return arnPrefix + DefaultRegion + ":" + LocalAccount + ":stateMachine:" + name
}

// ExecutionArn is the ARN of an execution of a local state machine.
func ExecutionArn(stateMachine, name string) string {
	return arnPrefix + DefaultRegion + ":" + LocalAccount + ":execution:" + stateMachine + ":" + name
}

// ParseExecutionArn returns the state machine and execution names.
func ParseExecutionArn(arn string) (stateMachine, name string, err error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution" {
		return "", "", fmt.Errorf("%w: %q is not an execution ARN", ErrInvalidArn, arn)
	}
	return parts[6], parts[7], nil
}

// ParseStateMachineArn returns the state machine name.
func ParseStateMachineArn(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "stateMachine" {
		return "", fmt.Errorf("%w: %q is not a state machine ARN", ErrInvalidArn, arn)
	}
	return parts[6], nil
}

// CheckName applies the naming rules Step Functions has for state machine
// and execution names: 1-80 characters, no whitespace, brackets, wildcards,
// special characters or control characters.
func CheckName(name string) error {
	if name == "" || len(name) > 80 || name == "." || name == ".." {
		return fmt.Errorf("%w: %q must be 1-80 characters", ErrInvalidName, name)
	}
	for _, r := range name {
		if r <= 0x20 || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidName, name, r)
		}
	}
	return nil
}

// MemStore keeps everything in memory (tests, benchmarks, one-shot runs).
type MemStore struct {
	mu    sync.Mutex
	execs map[string]*memExec
	order []string
	sms   map[string]StateMachineRecord
}

type memExec struct {
	x Execution
	// events in chunks of eventChunk, so a long history never gets copied
	// as it grows.
	events [][]Event
	n      int
}

const eventChunk = 1024

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{execs: map[string]*memExec{}, sms: map[string]StateMachineRecord{}}
}

func (s *MemStore) CreateExecution(_ context.Context, x Execution) (ExecutionWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.execs[x.ExecutionArn]; ok {
		return nil, fmt.Errorf("%w: %s", ErrExecutionAlreadyExists, x.ExecutionArn)
	}
	e := &memExec{x: x}
	s.execs[x.ExecutionArn] = e
	s.order = append(s.order, x.ExecutionArn)
	return &memWriter{s: s, e: e}, nil
}

type memWriter struct {
	s *MemStore
	e *memExec
}

func (w *memWriter) Event(e Event) error {
	w.s.mu.Lock()
	if w.e.n%eventChunk == 0 {
		w.e.events = append(w.e.events, make([]Event, 0, eventChunk))
	}
	last := len(w.e.events) - 1
	w.e.events[last] = append(w.e.events[last], e)
	w.e.n++
	w.s.mu.Unlock()
	return nil
}

func (w *memWriter) Update(x Execution) error {
	w.s.mu.Lock()
	w.e.x = x
	w.s.mu.Unlock()
	return nil
}

func (w *memWriter) Close() error { return nil }

func (s *MemStore) GetExecution(_ context.Context, arn string) (Execution, error) {
	if _, _, err := ParseExecutionArn(arn); err != nil {
		return Execution{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return Execution{}, fmt.Errorf("%w: %s", ErrExecutionDoesNotExist, arn)
	}
	return e.x, nil
}

func (s *MemStore) History(_ context.Context, arn string) ([]Event, error) {
	if _, _, err := ParseExecutionArn(arn); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrExecutionDoesNotExist, arn)
	}
	out := make([]Event, 0, e.n)
	for _, c := range e.events {
		out = append(out, c...)
	}
	return out, nil
}

func (s *MemStore) ListExecutions(_ context.Context, smArn string) ([]Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Execution
	for i := len(s.order) - 1; i >= 0; i-- {
		if x := s.execs[s.order[i]].x; x.StateMachineArn == smArn {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *MemStore) PutStateMachine(_ context.Context, sm StateMachineRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sms[sm.StateMachineArn]; ok {
		return fmt.Errorf("%w: %s", ErrStateMachineAlreadyExists, sm.StateMachineArn)
	}
	s.sms[sm.StateMachineArn] = sm
	return nil
}

func (s *MemStore) GetStateMachine(_ context.Context, arn string) (StateMachineRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.sms[arn]
	if !ok {
		return sm, fmt.Errorf("%w: %s", ErrStateMachineDoesNotExist, arn)
	}
	return sm, nil
}

func (s *MemStore) ListStateMachines(context.Context) ([]StateMachineRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StateMachineRecord, 0, len(s.sms))
	for _, sm := range s.sms {
		out = append(out, sm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FileStore keeps executions under a data directory so another process
// (`elt sfn history`, the local endpoint) can read status and history while
// an execution runs:
//
//	DIR/statemachines/NAME.json
//	DIR/executions/STATEMACHINE/NAME/execution.json   (replaced atomically)
//	DIR/executions/STATEMACHINE/NAME/history.jsonl    (one event a line, appended)
//
// Plain files rather than bbolt: bbolt holds an exclusive file lock while a
// writer has the database open, which would keep readers out for the whole
// of a long-running execution. Creating the execution's directory with
// os.Mkdir is the atomic "name is unique per state machine" check.
type FileStore struct {
	Dir string
}

// smDir is the directory of a state machine's executions. A distributed
// Map's child executions belong to "MACHINE/LABEL", kept in a
// subdirectory; every segment must be a valid name.
func (s *FileStore) smDir(sm string) (string, error) {
	segs := strings.Split(sm, "/")
	if len(segs) > 2 {
		return "", fmt.Errorf("%w: %q", ErrInvalidName, sm)
	}
	for _, seg := range segs {
		if err := CheckName(seg); err != nil {
			return "", err
		}
	}
	return filepath.Join(append([]string{s.Dir, "executions"}, segs...)...), nil
}

func (s *FileStore) execDir(arn string) (string, error) {
	sm, name, err := ParseExecutionArn(arn)
	if err != nil {
		return "", err
	}
	dir, err := s.smDir(sm)
	if err != nil {
		return "", err
	}
	if err := CheckName(name); err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (s *FileStore) CreateExecution(_ context.Context, x Execution) (ExecutionWriter, error) {
	dir, err := s.execDir(x.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create execution %s: %w", x.ExecutionArn, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExecutionAlreadyExists, x.ExecutionArn)
		}
		return nil, fmt.Errorf("create execution %s: %w", x.ExecutionArn, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "history.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", x.ExecutionArn, err)
	}
	// The history file stays locked while this process runs the execution
	// (released when the writer closes, or when the process dies), so
	// another process can tell a running execution from an orphaned one;
	// it is locked before the record says RUNNING. See stopfile.go.
	if err := lockExclusiveWait(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock history %s: %w", x.ExecutionArn, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "execution.json"), x); err != nil {
		f.Close()
		return nil, fmt.Errorf("write execution %s: %w", x.ExecutionArn, err)
	}
	return &fileWriter{dir: dir, f: f}, nil
}

type fileWriter struct {
	mu  sync.Mutex
	dir string
	f   *os.File
}

func (w *fileWriter) Event(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.f.Write(append(b, '\n'))
	return err
}

func (w *fileWriter) Update(x Execution) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return writeFileAtomic(filepath.Join(w.dir, "execution.json"), x)
}

func (w *fileWriter) Close() error { return w.f.Close() }

func (s *FileStore) GetExecution(_ context.Context, arn string) (Execution, error) {
	dir, err := s.execDir(arn)
	if err != nil {
		return Execution{}, err
	}
	var x Execution
	b, err := os.ReadFile(filepath.Join(dir, "execution.json"))
	if errors.Is(err, os.ErrNotExist) {
		return x, fmt.Errorf("%w: %s", ErrExecutionDoesNotExist, arn)
	}
	if err != nil {
		return x, fmt.Errorf("read execution %s: %w", arn, err)
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return x, fmt.Errorf("decode execution %s: %w", arn, err)
	}
	return x, nil
}

func (s *FileStore) History(_ context.Context, arn string) ([]Event, error) {
	dir, err := s.execDir(arn)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "history.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrExecutionDoesNotExist, arn)
	}
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", arn, err)
	}
	// Only complete lines count: the last line of a running execution's
	// history may be half written (no newline yet) and is left for the next
	// read. A complete line that does not decode is damage, and is reported
	// rather than silently cutting the history short.
	if i := bytes.LastIndexByte(b, '\n'); i < len(b)-1 {
		b = b[:i+1]
	}
	var out []Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return out, fmt.Errorf("read history %s: line %d: %w", arn, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read history %s: %w", arn, err)
	}
	return out, nil
}

func (s *FileStore) ListExecutions(ctx context.Context, smArn string) ([]Execution, error) {
	sm, err := ParseStateMachineArn(smArn)
	if err != nil {
		return nil, err
	}
	dir, err := s.smDir(sm)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", sm, err)
	}
	var out []Execution
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		x, err := s.GetExecution(ctx, ExecutionArn(sm, e.Name()))
		if err != nil {
			continue // being created, or the child executions of a Map label
		}
		out = append(out, x)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartDate.After(out[j].StartDate) })
	return out, nil
}

func (s *FileStore) smPath(arn string) (string, error) {
	name, err := ParseStateMachineArn(arn)
	if err != nil {
		return "", err
	}
	if err := CheckName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, "statemachines", name+".json"), nil
}

func (s *FileStore) PutStateMachine(_ context.Context, sm StateMachineRecord) error {
	p, err := s.smPath(sm.StateMachineArn)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(sm, "", "  ")
	if err != nil {
		return err
	}
	// Write a temporary file, then hard-link it into place: the link is
	// atomic and fails if the name exists, so a reader in another process
	// never sees a half-written definition and two creators cannot both win.
	f, err := os.CreateTemp(filepath.Dir(p), ".sm-*.tmp")
	if err != nil {
		return fmt.Errorf("create state machine %s: %w", sm.Name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write state machine %s: %w", sm.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write state machine %s: %w", sm.Name, err)
	}
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrStateMachineAlreadyExists, sm.StateMachineArn)
		}
		return fmt.Errorf("create state machine %s: %w", sm.Name, err)
	}
	return nil
}

func (s *FileStore) GetStateMachine(_ context.Context, arn string) (StateMachineRecord, error) {
	var sm StateMachineRecord
	p, err := s.smPath(arn)
	if err != nil {
		return sm, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return sm, fmt.Errorf("%w: %s", ErrStateMachineDoesNotExist, arn)
	}
	if err != nil {
		return sm, err
	}
	return sm, json.Unmarshal(b, &sm)
}

func (s *FileStore) ListStateMachines(ctx context.Context) ([]StateMachineRecord, error) {
	ents, err := os.ReadDir(filepath.Join(s.Dir, "statemachines"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []StateMachineRecord
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		sm, err := s.GetStateMachine(ctx, StateMachineArn(name))
		if err == nil {
			out = append(out, sm)
		}
	}
	return out, nil
}
