package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// passChain is a definition of n Pass states in a row, each adding to
// its input with ResultPath (so every transition does real I/O work).
func passChain(n int) string {
	states := map[string]any{}
	for i := 0; i < n; i++ {
		st := map[string]any{"Type": "Pass", "Result": i, "ResultPath": "$.last"}
		if i == n-1 {
			st["End"] = true
		} else {
			st["Next"] = fmt.Sprintf("S%d", i+1)
		}
		states[fmt.Sprintf("S%d", i)] = st
	}
	b, _ := json.Marshal(map[string]any{"StartAt": "S0", "States": states})
	return string(b)
}

// BenchmarkPassChain measures state transitions per second through a
// chain of 1,000 Pass states, with history recorded in memory.
func BenchmarkPassChain(b *testing.B) {
	const n = 1000
	m := mustCompile(b, passChain(n))
	e := New(Options{})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, err := e.Execute(ctx, StartInput{Machine: m, Input: `{"id":"bench"}`, StateMachineName: "chain"})
		if err != nil || x.Status != StatusSucceeded {
			b.Fatalf("%v %+v", err, x)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "transitions/s")
}

// BenchmarkChoiceLoop measures transitions per second of a counting loop
// (Pass with an intrinsic, then Choice) of 500 rounds: 1,000 transitions.
func BenchmarkChoiceLoop(b *testing.B) {
	m := mustCompile(b, `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":500,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`)
	e := New(Options{})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, err := e.Execute(ctx, StartInput{Machine: m, Input: `{"i":0}`})
		if err != nil || x.Status != StatusSucceeded {
			b.Fatalf("%v %+v", err, x)
		}
	}
	b.ReportMetric(float64(1001*b.N)/b.Elapsed().Seconds(), "transitions/s")
}

// BenchmarkInlineMap10k runs an inline Map over 10,000 items (ItemSelector
// plus a two-state item processor), results in item order.
func BenchmarkInlineMap10k(b *testing.B) {
	const n = 10000
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":%d}`, i)
	}
	input := `{"items":[` + strings.Join(items, ",") + `]}`
	m := mustCompile(b, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
		"ItemSelector":{"id.$":"$$.Map.Item.Value.id","index.$":"$$.Map.Item.Index"},
		"ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Result":true,"ResultPath":"$.seen","Next":"B"},"B":{"Type":"Pass","OutputPath":"$.id","End":true}}},
		"ResultSelector":{"n.$":"States.ArrayLength($)"},"End":true}}}`)
	// 60,000 events: over AWS's 25,000-event history quota, which is why
	// AWS wants a distributed Map at this size. Lift it for the benchmark.
	e := New(Options{MaxHistoryEvents: -1})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, err := e.Execute(ctx, StartInput{Machine: m, Input: input})
		if err != nil || x.Status != StatusSucceeded || *x.Output != `{"n":10000}` {
			b.Fatalf("%v %+v", err, x)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
}
