package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/schedule"
)

// Config is the schedules-and-rules file (<data-dir>/schedules.json). Every
// entry is optional: an entry replaces the default of the same name, and
// defaults not named keep their settings.
type Config struct {
	Schedules []ScheduleConfig `json:"schedules"`
	Rules     []RuleConfig     `json:"rules"`
}

// ScheduleConfig starts StateMachine with Input at every slot of
// Expression (rate(...) or cron(...), UTC).
type ScheduleConfig struct {
	Name         string          `json:"name"`
	Expression   string          `json:"expression"`
	StateMachine string          `json:"state_machine"`
	Input        json.RawMessage `json:"input,omitempty"`
	Enabled      bool            `json:"enabled"`
}

// Target kinds of a rule.
const (
	// TargetQualityGate starts the quality gate for a PartitionReady event
	// (deterministic name, one run per partition).
	TargetQualityGate = "quality-gate"
	// TargetStartExecution starts StateMachine with the event as input.
	TargetStartExecution = "start-execution"
)

// RuleConfig routes events matching EventPattern to a target.
type RuleConfig struct {
	Name         string          `json:"name"`
	EventPattern json.RawMessage `json:"event_pattern"`
	Target       string          `json:"target"`
	StateMachine string          `json:"state_machine,omitempty"`
	Enabled      bool            `json:"enabled"`
}

// Names of the default entries.
const (
	OpsDailySchedule = "ops-daily"
	QualityGateRule  = "quality-gate-on-partition-ready"
)

// DefaultConfig: the daily ops replay (03:00 UTC) is off until configured;
// the partition-ready -> quality-gate rule is on.
func DefaultConfig(opsInput json.RawMessage) Config {
	return Config{
		Schedules: []ScheduleConfig{{
			Name: OpsDailySchedule, Expression: "cron(0 3 * * ? *)", StateMachine: "ops-replay-quality",
			Input: opsInput, Enabled: false,
		}},
		Rules: []RuleConfig{{
			Name:         QualityGateRule,
			EventPattern: json.RawMessage(`{"source":["` + bus.Source + `"],"detail-type":["` + bus.DetailTypePartitionReady + `"]}`),
			Target:       TargetQualityGate, StateMachine: "quality-gate", Enabled: true,
		}},
	}
}

// LoadConfig reads path (missing: the defaults alone) over defaults.
func LoadConfig(path string, defaults Config) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return defaults, defaults.Check()
	}
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	var file Config
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(&file); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	out := Config{}
	named := map[string]ScheduleConfig{}
	for _, s := range file.Schedules {
		named[s.Name] = s
	}
	for _, s := range defaults.Schedules {
		if f, ok := named[s.Name]; ok {
			if f.Input == nil {
				f.Input = s.Input // a default entry re-enabled without an input keeps the default input
			}
			if f.Expression == "" {
				f.Expression = s.Expression
			}
			if f.StateMachine == "" {
				f.StateMachine = s.StateMachine
			}
			s = f
			delete(named, f.Name)
		}
		out.Schedules = append(out.Schedules, s)
	}
	for _, s := range file.Schedules {
		if _, ok := named[s.Name]; ok {
			out.Schedules = append(out.Schedules, s)
		}
	}
	namedR := map[string]RuleConfig{}
	for _, r := range file.Rules {
		namedR[r.Name] = r
	}
	for _, r := range defaults.Rules {
		if f, ok := namedR[r.Name]; ok {
			if f.EventPattern == nil {
				f.EventPattern = r.EventPattern
			}
			if f.Target == "" {
				f.Target = r.Target
			}
			if f.StateMachine == "" {
				f.StateMachine = r.StateMachine
			}
			r = f
			delete(namedR, f.Name)
		}
		out.Rules = append(out.Rules, r)
	}
	for _, r := range file.Rules {
		if _, ok := namedR[r.Name]; ok {
			out.Rules = append(out.Rules, r)
		}
	}
	if err := out.Check(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Check validates names, expressions, patterns and targets.
func (c Config) Check() error {
	seen := map[string]bool{}
	for _, s := range c.Schedules {
		if err := engine.CheckName(s.Name); err != nil || len(s.Name) > 60 {
			return fmt.Errorf("schedule %q: the name must be a valid execution name prefix of at most 60 characters", s.Name)
		}
		if seen["s/"+s.Name] {
			return fmt.Errorf("schedule %q: duplicate name", s.Name)
		}
		seen["s/"+s.Name] = true
		if _, err := schedule.Parse(s.Expression); err != nil {
			return fmt.Errorf("schedule %q: %w", s.Name, err)
		}
		if s.StateMachine == "" {
			return fmt.Errorf("schedule %q: state_machine is required", s.Name)
		}
		if s.Input != nil && !json.Valid(s.Input) {
			return fmt.Errorf("schedule %q: input is not JSON", s.Name)
		}
	}
	for _, r := range c.Rules {
		if r.Name == "" || seen["r/"+r.Name] {
			return fmt.Errorf("rule %q: empty or duplicate name", r.Name)
		}
		seen["r/"+r.Name] = true
		if _, err := CompilePattern(r.EventPattern); err != nil {
			return fmt.Errorf("rule %q: %w", r.Name, err)
		}
		switch r.Target {
		case TargetQualityGate:
		case TargetStartExecution:
			if r.StateMachine == "" {
				return fmt.Errorf("rule %q: state_machine is required for target %s", r.Name, r.Target)
			}
		default:
			return fmt.Errorf("rule %q: target %q is not %s or %s", r.Name, r.Target, TargetQualityGate, TargetStartExecution)
		}
	}
	return nil
}

// Built are the enabled rules and schedules, ready to run.
type Built struct {
	Rules       []Rule
	QualityGate *QualityGate // the quality-gate target (nil when no rule uses it); Flush it periodically
	Schedules   []schedule.Entry
}

// Build compiles the enabled entries against exec. pendingDir keeps the
// quality gate's coalesced events; silverPrefix is the silver root.
func (c Config) Build(exec Executions, pendingDir, silverPrefix string, log *slog.Logger) (Built, error) {
	if err := c.Check(); err != nil {
		return Built{}, err
	}
	var out Built
	for _, r := range c.Rules {
		if !r.Enabled {
			continue
		}
		p, _ := CompilePattern(r.EventPattern)
		var t Target
		switch r.Target {
		case TargetQualityGate:
			if out.QualityGate == nil {
				out.QualityGate = &QualityGate{Exec: exec, StateMachine: r.StateMachine, SilverPrefix: silverPrefix, PendingDir: pendingDir, Log: log}
			}
			t = out.QualityGate
		case TargetStartExecution:
			t = &StartExecution{Exec: exec, StateMachine: r.StateMachine, RuleName: r.Name, Log: log}
		}
		out.Rules = append(out.Rules, Rule{Name: r.Name, Pattern: p, Target: t})
	}
	for _, s := range c.Schedules {
		if !s.Enabled {
			continue
		}
		sched, _ := schedule.Parse(s.Expression)
		s := s
		input := "{}"
		if s.Input != nil {
			input = string(s.Input)
		}
		out.Schedules = append(out.Schedules, schedule.Entry{
			Name: s.Name, Schedule: sched,
			Fire: func(ctx context.Context, slot time.Time) error {
				name := ScheduledExecutionName(s.Name, slot)
				err := exec.Start(ctx, s.StateMachine, name, input)
				if errors.Is(err, engine.ErrExecutionAlreadyExists) {
					return nil // this slot was started before a restart
				}
				if err == nil && log != nil {
					log.Info("schedule.execution_started", "schedule", s.Name, "state_machine", s.StateMachine, "name", name)
				}
				return err
			},
		})
	}
	return out, nil
}

// ScheduledExecutionName names the execution of a schedule's slot:
// "<schedule>-<yyyymmddThhmmZ>", so a slot fired twice (a crash before the
// scheduler recorded it) starts one execution.
func ScheduledExecutionName(scheduleName string, slot time.Time) string {
	return safeName(scheduleName) + "-" + slot.UTC().Format("20060102T1504Z")
}
