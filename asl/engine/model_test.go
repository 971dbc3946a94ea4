package engine

import (
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
