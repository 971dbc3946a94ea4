package fake

import (
	"bytes"
	"errors"
	"testing"

	"github.com/serverless-elt/elt/internal/records"
)

// Every generated line is what it claims: good lines parse, bad lines fail
// with the reason of their kind (oversized lines are caught by the decoder's
// line limit, so here they must simply be longer than 1 MiB).
func TestGeneratedLinesAreWhatTheyClaim(t *testing.T) {
	g, err := New(42, Options{Types: Types, BadRate: 0.2, OversizedBytes: 2000})
	if err != nil {
		t.Fatal(err)
	}
	p := records.Default().NewParser()
	seen := map[BadKind]int{}
	for i := 0; i < 5000; i++ {
		line, good, kind := g.Next()
		var rec records.Record
		err := p.Parse(line, &rec)
		if good {
			if err != nil {
				t.Fatalf("good line rejected: %v\n%s", err, line)
			}
			continue
		}
		seen[kind]++
		if kind == Oversized {
			if len(line) < 2000 {
				t.Fatalf("oversized line of %d bytes", len(line))
			}
			continue
		}
		var inv *records.Invalid
		if !errors.As(err, &inv) || string(inv.Reason) != string(kind) {
			t.Fatalf("%s line gave %v\n%s", kind, err, line)
		}
	}
	for _, k := range Kinds {
		if seen[k] == 0 {
			t.Errorf("no %s generated", k)
		}
	}
}

func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		g, _ := New(seed, Options{Types: Types, BadRate: 0.1})
		var b bytes.Buffer
		for i := 0; i < 200; i++ {
			l, _, _ := g.Next()
			b.Write(l)
		}
		return b.Bytes()
	}
	if !bytes.Equal(run(7), run(7)) || bytes.Equal(run(7), run(8)) {
		t.Fatal("not deterministic per seed")
	}
	if _, err := New(1, Options{Types: []string{"nope"}}); err == nil {
		t.Fatal("unknown type accepted")
	}
}
