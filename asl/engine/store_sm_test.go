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
