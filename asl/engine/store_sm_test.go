package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestFileStorePutStateMachineExclusive: of several processes (here
// goroutines) creating the same state machine, exactly one wins and the
// others get ErrStateMachineAlreadyExists; the definition on disk is whole
// and no temporary file is left behind.
func TestFileStorePutStateMachineExclusive(t *testing.T) {
	dir := t.TempDir()
	s := &FileStore{Dir: dir}
	rec := StateMachineRecord{StateMachineArn: StateMachineArn("m"), Name: "m", Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.PutStateMachine(t.Context(), rec) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrStateMachineAlreadyExists):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d creators won, want 1", won)
	}
	got, err := s.GetStateMachine(t.Context(), rec.StateMachineArn)
	if err != nil || got.Definition != rec.Definition {
		t.Fatalf("read back %+v, %v", got, err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "statemachines"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestFileStoreHistoryLines: a half-written last line (a running
// execution's next event) is left out; a complete line that does not decode
// is reported, not silently cutting the history short.
func TestFileStoreHistoryLines(t *testing.T) {
	ev := `{"id":1,"type":"ExecutionStarted","timestamp":"2026-01-01T00:00:00Z"}` + "\n"
	tests := []struct {
		name    string
		content string
		events  int
		wantErr bool
	}{
		{"complete", ev + strings.Replace(ev, `"id":1`, `"id":2`, 1), 2, false},
		{"half-written last line", ev + `{"id":2,"ty`, 1, false},
		{"damaged middle line", ev + "{not json\n" + ev, 1, true},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := &FileStore{Dir: dir}
			arn := ExecutionArn("m", "x")
			edir, err := s.execDir(arn)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(edir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(edir, "history.jsonl"), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			evs, err := s.History(t.Context(), arn)
			if (err != nil) != tt.wantErr || len(evs) != tt.events {
				t.Fatalf("History: %d events, err %v; want %d events, error %v", len(evs), err, tt.events, tt.wantErr)
			}
		})
	}
}
