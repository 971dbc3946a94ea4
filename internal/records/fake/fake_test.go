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

// Planted violations are valid records (they reach silver) carrying the
// value the quality suites reject.
func TestViolationsAreValidRecords(t *testing.T) {
	g, err := New(3, Options{Types: Types, ViolationRate: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	p := records.Default().NewParser()
	marks := []string{`"Pigeon Express"`, `"teleported"`, `"sku-unknown"`}
	marked := 0
	for i := 0; i < 3000; i++ {
		line, good, _ := g.Next()
		var rec records.Record
		if !good || p.Parse(line, &rec) != nil {
			t.Fatalf("violation line is not a good record: %s", line)
		}
		for _, m := range marks {
			if bytes.Contains(line, []byte(m)) {
				marked++
			}
		}
	}
	counts := g.ViolationCounts()
	if g.Violations() < 700 || g.Violations() > 1100 || marked != counts[CarrierOutsideSet]+counts[UnknownStatus]+counts[MalformedSKU] {
		t.Fatalf("violations %d by kind %v, marked %d", g.Violations(), counts, marked)
	}
	for typ, kinds := range Violations {
		for _, k := range kinds {
			if counts[k] == 0 {
				t.Errorf("%s: no %s planted", typ, k)
			}
		}
	}
	if _, err := New(1, Options{ViolationRate: 2}); err == nil {
		t.Fatal("violation rate 2 accepted")
	}
}
