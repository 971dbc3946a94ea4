package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Cross-process StopExecution. An execution's history file is held under an
// exclusive flock by the process running it for as long as it runs, so:
//
//   - StopExecution in a process that does not run the execution writes a
//     stop request (DIR/executions/SM/NAME/stop.json) into the FileStore;
//     the engine that runs the execution polls for requests and aborts it
//     (status ABORTED, an ExecutionAborted history event, as AWS does);
//   - an execution left RUNNING by a process that died (its lock is free)
//     is closed by whoever asks: the stopper, or `elt up` at start-up
//     (FileStore.AbortOrphans), with the same ExecutionAborted event.
//
// Any store implementing StopRequests gets this behaviour from the engine.

// StopRequests is implemented by stores shared between processes.
type StopRequests interface {
	// RequestStop asks the process running the execution to stop it.
	RequestStop(ctx context.Context, arn, errName, cause string) error
	// PendingStop returns the stop request for an execution, if any.
	PendingStop(arn string) (errName, cause string, ok bool)
	// AbortIfOrphaned closes a RUNNING execution that no process runs as
	// ABORTED (appending ExecutionAborted at time at) and returns the
	// record; ok is false when a process still runs it (or it has ended).
	AbortIfOrphaned(ctx context.Context, arn, errName, cause string, at time.Time) (x Execution, ok bool, err error)
}

var _ StopRequests = (*FileStore)(nil)

type stopRequest struct {
	Error       string    `json:"error"`
	Cause       string    `json:"cause"`
	RequestedAt time.Time `json:"requestedAt"`
}

// RequestStop implements StopRequests.
func (s *FileStore) RequestStop(ctx context.Context, arn, errName, cause string) error {
	dir, err := s.execDir(arn)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "execution.json")); err != nil {
		return fmt.Errorf("%w: %s", ErrExecutionDoesNotExist, arn)
	}
	return writeFileAtomic(filepath.Join(dir, "stop.json"), stopRequest{Error: errName, Cause: cause, RequestedAt: time.Now().UTC()})
}

// PendingStop implements StopRequests.
func (s *FileStore) PendingStop(arn string) (string, string, bool) {
	dir, err := s.execDir(arn)
	if err != nil {
		return "", "", false
	}
	b, err := os.ReadFile(filepath.Join(dir, "stop.json"))
	if err != nil {
		return "", "", false
	}
	var r stopRequest
	if json.Unmarshal(b, &r) != nil {
		return "", "", false
	}
	return r.Error, r.Cause, true
}

// AbortIfOrphaned implements StopRequests.
func (s *FileStore) AbortIfOrphaned(ctx context.Context, arn, errName, cause string, at time.Time) (Execution, bool, error) {
	dir, err := s.execDir(arn)
	if err != nil {
		return Execution{}, false, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "history.jsonl"), os.O_WRONLY|os.O_APPEND, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return Execution{}, false, fmt.Errorf("%w: %s", ErrExecutionDoesNotExist, arn)
	}
	if err != nil {
		return Execution{}, false, fmt.Errorf("open history %s: %w", arn, err)
	}
	defer f.Close() // releases the lock
	locked, err := lockExclusive(f)
	if err != nil || !locked {
		return Execution{}, false, err
	}
	// The lock is ours: no process runs the execution. It may have just
	// ended, so decide on the record as it is now.
	x, err := s.GetExecution(ctx, arn)
	if err != nil {
		return x, false, err
	}
	if x.Status != StatusRunning {
		return x, false, nil
	}
	evs, err := s.History(ctx, arn)
	if err != nil {
		return x, false, err
	}
	var last int64
	for _, ev := range evs {
		last = max(last, ev.ID)
	}
	at = at.UTC()
	ev := Event{ID: last + 1, PreviousEventID: last, Timestamp: at, Type: "ExecutionAborted",
		DetailsKey: detailsKey("ExecutionAborted"), Details: map[string]any{"error": errName, "cause": cause}}
	b, err := json.Marshal(ev)
	if err != nil {
		return x, false, err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return x, false, fmt.Errorf("append history %s: %w", arn, err)
	}
	x.Status, x.Error, x.Cause, x.StopDate = StatusAborted, errName, cause, &at
	if err := writeFileAtomic(filepath.Join(dir, "execution.json"), x); err != nil {
		return x, false, fmt.Errorf("write execution %s: %w", arn, err)
	}
	return x, true, nil
}

// AbortOrphans closes every execution left RUNNING by a process that is
// gone (see AbortIfOrphaned) and returns their ARNs. `elt up` runs it at
// start-up: local executions do not outlive their process.
func (s *FileStore) AbortOrphans(ctx context.Context, errName, cause string, at time.Time) ([]string, error) {
	var out []string
	var walk func(dir, sm string) error
	walk = func(dir, sm string) error {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			sub := filepath.Join(dir, e.Name())
			if sm == "" {
				if err := walk(sub, e.Name()); err != nil {
					return err
				}
				continue
			}
			if _, err := os.Stat(filepath.Join(sub, "execution.json")); err != nil {
				// A distributed Map's child executions: SM/LABEL/NAME.
				if !strings.Contains(sm, "/") {
					if err := walk(sub, sm+"/"+e.Name()); err != nil {
						return err
					}
				}
				continue
			}
			arn := ExecutionArn(sm, e.Name())
			if x, err := s.GetExecution(ctx, arn); err != nil || x.Status != StatusRunning {
				continue
			}
			if _, ok, err := s.AbortIfOrphaned(ctx, arn, errName, cause, at); err != nil {
				return err
			} else if ok {
				out = append(out, arn)
			}
		}
		return nil
	}
	return out, walk(filepath.Join(s.Dir, "executions"), "")
}
