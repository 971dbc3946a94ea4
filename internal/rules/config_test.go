package rules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
)

func TestLoadConfigDefaultsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "schedules.json")
	def := DefaultConfig([]byte(`{"window_hours":24}`))
	c, err := LoadConfig(path, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Schedules) != 1 || c.Schedules[0].Enabled || len(c.Rules) != 1 || !c.Rules[0].Enabled {
		t.Fatalf("defaults: %+v", c)
	}
	os.WriteFile(path, []byte(`{
	  "schedules": [
	    {"name": "ops-daily", "expression": "cron(30 2 * * ? *)", "enabled": true},
	    {"name": "compact-weekly", "expression": "cron(0 4 ? * SUN *)", "state_machine": "compaction-backfill", "input": {"record_types": ["shipments"]}, "enabled": true}
	  ],
	  "rules": [{"name": "quality-gate-on-partition-ready", "enabled": false}]
	}`), 0o644)
	c, err = LoadConfig(path, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Schedules) != 2 || c.Schedules[0].Expression != "cron(30 2 * * ? *)" || !c.Schedules[0].Enabled ||
		string(c.Schedules[0].Input) != `{"window_hours":24}` || c.Schedules[0].StateMachine != "ops-replay-quality" {
		t.Fatalf("schedules %+v", c.Schedules)
	}
	if c.Rules[0].Enabled || c.Rules[0].Target != TargetQualityGate {
		t.Fatalf("rules %+v", c.Rules)
	}
	for _, bad := range []struct{ file, want string }{
		{`{"schedules":[{"name":"x","expression":"rate(1 hours)","state_machine":"m"}]}`, "singular"},
		{`{"schedules":[{"name":"x","expression":"cron(0 0 * * * *)","state_machine":"m"}]}`, "field 5"},
		{`{"schedules":[{"name":"x y","expression":"rate(1 day)","state_machine":"m"}]}`, "valid execution name"},
		{`{"schedules":[{"name":"x","expression":"rate(1 day)"}]}`, "state_machine is required"},
		{`{"rules":[{"name":"r","event_pattern":{"source":"x"},"target":"quality-gate"}]}`, "invalid event pattern"},
		{`{"rules":[{"name":"r","event_pattern":{"source":["x"]},"target":"lambda"}]}`, "target"},
		{`{"rules":[{"name":"r","event_pattern":{"source":["x"]},"target":"start-execution"}]}`, "state_machine is required"},
		{`{"schedule":[]}`, "unknown field"},
	} {
		os.WriteFile(path, []byte(bad.file), 0o644)
		if _, err := LoadConfig(path, def); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want %q", bad.file, err, bad.want)
		}
	}
}

// A schedule's slot starts one execution named after the slot, even when
// fired twice (a restart before the scheduler recorded it).
func TestBuildScheduleFiresDeterministicNames(t *testing.T) {
	ctx := context.Background()
	g := &gate{}
	e := newGateEngine(t, g)
	c := Config{Schedules: []ScheduleConfig{{Name: "gate-hourly", Expression: "rate(1 hour)", StateMachine: "quality-gate", Input: []byte(`{"record_type":"shipments","dt":"2024-05-01"}`), Enabled: true}}}
	b, err := c.Build(EngineExecutions{e}, t.TempDir(), "silver/", nil)
	if err != nil || len(b.Schedules) != 1 || len(b.Rules) != 0 {
		t.Fatalf("build: %+v %v", b, err)
	}
	slot := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ {
		if err := b.Schedules[0].Fire(ctx, slot); err != nil {
			t.Fatal(err)
		}
	}
	xs := executions(t, e)
	if len(xs) != 1 || xs[0].Name != "gate-hourly-20261126T0300Z" {
		t.Fatalf("executions %+v", xs)
	}
	waitDone(t, e, xs[0].Name)
	if _, err := e.Store().GetExecution(ctx, engine.ExecutionArn("quality-gate", "gate-hourly-20261126T0300Z")); err != nil {
		t.Fatal(err)
	}
}
