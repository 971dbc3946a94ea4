package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/asl"
)

// A machine built with the asl builder runs without a JSON file.
func TestFromModel(t *testing.T) {
	sm, err := asl.New("built in Go").States(
		asl.Wait("Pause").Seconds(90).Next("Greet"),
		asl.Pass("Greet").Result(map[string]any{"hello": "world"}).ResultPath("$.greeting").Next("Done"),
		asl.Succeed("Done"),
	).Build()
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromModel(sm)
	if err != nil {
		t.Fatal(err)
	}
	x := execute(t, New(Options{}), m, `{"n":1}`)
	if x.Status != StatusSucceeded || *x.Output != `{"greeting":{"hello":"world"},"n":1}` || x.StopDate.Sub(x.StartDate).Seconds() != 90 {
		t.Fatalf("%+v %s", x, *x.Output)
	}
}

// States.UUID and States.MathRandom draw from the engine's injected
// sources: a fixed UUID generator and a seed make them reproducible.
func TestInjectedRandomAndUUID(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"u.$":"States.UUID()","r.$":"States.MathRandom(1, 1000)","rs.$":"States.MathRandom(1, 1000, 7)"},"End":true}}}`
	run := func(seed uint64) string {
		e := New(Options{Seed: seed, UUID: func() string { return "11111111-2222-4333-8444-555555555555" }})
		x := execute(t, e, mustCompile(t, def), `{}`)
		if x.Status != StatusSucceeded {
			t.Fatalf("%+v", x)
		}
		return *x.Output
	}
	a, b := run(42), run(42)
	if a != b {
		t.Fatalf("same seed, different results: %s %s", a, b)
	}
	if !strings.Contains(a, `"u":"11111111-2222-4333-8444-555555555555"`) {
		t.Fatalf("UUID not from the injected source: %s", a)
	}
	var out struct{ R, Rs int }
	if err := json.Unmarshal([]byte(a), &out); err != nil || out.R < 1 || out.R >= 1000 || out.Rs < 1 || out.Rs >= 1000 {
		t.Fatalf("MathRandom out of range: %s %v", a, err)
	}
	c := run(43)
	var other struct{ Rs int }
	json.Unmarshal([]byte(c), &other)
	if other.Rs != out.Rs {
		t.Fatalf("an explicit seed argument must not depend on the engine seed: %d vs %d", other.Rs, out.Rs)
	}
}
