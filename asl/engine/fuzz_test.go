package engine

import (
	"context"
	"testing"
	"time"
)

// FuzzCompileAndRun: any definition either fails to compile or runs to an
// end (with a bounded virtual clock and no task handlers) without panics.
func FuzzCompileAndRun(f *testing.F) {
	f.Add([]byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.r","End":true}}}`), []byte(`{"x":1}`))
	f.Add([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","StringMatches":"a*\\*","Next":"S"}],"Default":"F"},"S":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"E"}}}`), []byte(`{"v":"ab*"}`))
	f.Add([]byte(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","ItemSelector":{"i.$":"$$.Map.Item.Index"},"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}},"End":true}}}`), []byte(`{"xs":[1,2]}`))
	f.Add([]byte(`{"TimeoutSeconds":1,"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}],"End":true}}}`), []byte(`{"s":3}`))
	f.Fuzz(func(t *testing.T, def, input []byte) {
		m, err := Compile(def)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e := New(Options{})
		x, err := e.Execute(ctx, StartInput{Machine: m, Input: string(input)})
		if err != nil {
			return
		}
		if x.Status == StatusRunning {
			t.Fatalf("execution still running after Execute: %+v", x)
		}
	})
}
