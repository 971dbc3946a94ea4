package asl

import (
	"os"
	"strings"
	"testing"
)

func TestMermaidShapesAndEdges(t *testing.T) {
	sm, err := New("m").States(
		Task("Work").ResourceARN("arn:aws:lambda:us-east-1:123456789012:function:f").
			Catch(CatchAll().ResultPath("$.error").Next("Oops")).Next("Check"),
		Choice("Check").When(And(IsPresent("$.ok", true), BooleanEquals("$.ok", true)), "Fan").
			When(Not(StringEquals("$.s", `say "hi"`)), "Oops").Default("Wait"),
		Wait("Wait").Seconds(1).Next("Work"),
		Parallel("Fan").Branches(Flow(Pass("A").End()), Flow(Pass("B").End())).Next("Each"),
		Map("Each").ItemProcessor(Distributed(ExecExpress), Flow(Pass("Item").End())).Next("Done"),
		Succeed("Done"),
		Fail("Oops").Error("E"),
	).Build()
	if err != nil {
		t.Fatal(err)
	}
	got := Mermaid(sm)
	for _, want := range []string{
		"flowchart TD\n",
		"start --> n0\n",
		`n0["Work"]`,
		`n1{"Check"}:::choice`,
		`n2[/"Wait"/]`,
		`subgraph n3 ["Fan (Parallel)"]`,
		`subgraph n3_b0 ["branch 1"]`,
		`n3_b1_0("B")`,
		`subgraph n4 ["Each (distributed Map)"]`,
		`n4_0("Item")`,
		`n5(["Done"]):::succeed`,
		`n6(["Oops"]):::fail`,
		`n0 -.->|"catch States.ALL"| n6`,
		`n1 -->|"$.ok IsPresent true and $.ok BooleanEquals true"| n3`,
		`n1 -->|"not ($.s StringEquals say #quot;hi#quot;)"| n6`,
		`n1 -->|"default"| n2`,
		"n3 --> n4\n",
		"n5 --> finish\n",
		"finish((end))",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if Mermaid(sm) != got {
		t.Error("not deterministic")
	}
}

func TestMermaidAWSExamples(t *testing.T) {
	// Every example renders with one node line per state and no empty edge target.
	for _, f := range awsExamples(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sm, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		out := Mermaid(sm)
		if strings.Contains(out, "--> \n") || strings.Contains(out, "| \n") {
			t.Errorf("%s: edge without target:\n%s", f, out)
		}
	}
}
