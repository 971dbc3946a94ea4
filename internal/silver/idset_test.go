package silver

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// idSet agrees with a map on random ids, across growth.
func TestIDSet(t *testing.T) {
	s := newIDSet(0)
	ref := map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 100_000; i++ {
		id := fmt.Sprint(rng.IntN(60_000))
		if got, want := s.add(id), ref[id]; got != want {
			t.Fatalf("add(%s) = %v, want %v", id, got, want)
		}
		ref[id] = true
	}
	if s.len() != len(ref) {
		t.Fatalf("n %d, want %d", s.len(), len(ref))
	}
}
