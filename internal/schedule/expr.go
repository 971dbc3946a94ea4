// Package schedule implements EventBridge schedule expressions —
// rate(value unit) and cron(Minutes Hours Day-of-month Month Day-of-week Year),
// evaluated in UTC with a one-minute precision — and a scheduler that fires
// due schedules from an injected clock and remembers what it fired across
// restarts.
//
// The rules follow the EventBridge user guide, "Rate expressions reference"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html)
// and "Cron expressions reference"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html):
//
//   - rate: value is a positive integer; unit is minute|hour|day when the
//     value is 1 and minutes|hours|days otherwise (rate(1 hours) and
//     rate(5 hour) are invalid). A rate schedule runs every value units from
//     its anchor (when the rule was created).
//   - cron: six fields. Minutes 0-59 (, - * /), Hours 0-23 (, - * /),
//     Day-of-month 1-31 (, - * ? / L W), Month 1-12 or JAN-DEC (, - * /),
//     Day-of-week 1-7 or SUN-SAT, 1 = Sunday (, - * ? L #), Year 1970-2199
//     (, - * /). One of Day-of-month and Day-of-week must be ? (not both, not
//     neither). A # expression must be the only one in Day-of-week.
//
// Where the guide is silent we follow the Quartz scheduler EventBridge's cron
// is modelled on: nW is the weekday nearest day n without leaving the month,
// LW the last weekday of the month, nL in Day-of-week the last such weekday
// of the month, L alone in Day-of-week is Saturday (7), names are case
// insensitive, ranges must run upwards (no wrap-around).
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed schedule expression.
type Schedule interface {
	// Next is the first firing time strictly after after, in UTC; the zero
	// time when there is none (a cron whose years have all passed).
	Next(after time.Time) time.Time
	// String is the expression as written.
	String() string
}

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid schedule expression")

// Parse parses rate(...) or cron(...).
func Parse(expr string) (Schedule, error) {
	e := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(e, "rate(") && strings.HasSuffix(e, ")"):
		return parseRate(e, e[len("rate("):len(e)-1])
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		return parseCron(e, e[len("cron("):len(e)-1])
	}
	return nil, fmt.Errorf("%w %q: want rate(value unit) or cron(minutes hours day-of-month month day-of-week year)", ErrSyntax, expr)
}

// Rate fires every Every, starting Every after Anchor.
type Rate struct {
	Every time.Duration
	// Anchor is when the schedule started (the rule's creation); the zero
	// time means the Unix epoch, so slots fall on whole multiples of Every.
	Anchor time.Time
	expr   string
}

// maxRate bounds a rate so value*unit cannot overflow (about 100 years).
const maxRate = 100 * 365 * 24 * time.Hour

func parseRate(expr, body string) (Schedule, error) {
	fail := func(format string, args ...any) (Schedule, error) {
		return nil, fmt.Errorf("%w %q: %s", ErrSyntax, expr, fmt.Sprintf(format, args...))
	}
	parts := strings.Fields(body)
	if len(parts) != 2 {
		return fail("rate takes two fields, value and unit")
	}
	v, unit := parts[0], parts[1]
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return fail("value %q is not a positive integer", v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fail("value %q is not a positive integer", v)
	}
	var u time.Duration
	var singular bool
	switch unit {
	case "minute", "minutes":
		u, singular = time.Minute, unit == "minute"
	case "hour", "hours":
		u, singular = time.Hour, unit == "hour"
	case "day", "days":
		u, singular = 24*time.Hour, unit == "day"
	default:
		return fail("unit %q is not one of minute|minutes|hour|hours|day|days", unit)
	}
	if n == 1 && !singular {
		return fail("a value of 1 takes the singular unit (%s), not %q", strings.TrimSuffix(unit, "s"), unit)
	}
	if n > 1 && singular {
		return fail("a value over 1 takes the plural unit (%ss), not %q", unit, unit)
	}
	if n > int64(maxRate/u) {
		return fail("rate of %d %s is too long", n, unit)
	}
	return Rate{Every: time.Duration(n) * u, expr: expr}, nil
}

// WithAnchor returns the rate started at t.
func (r Rate) WithAnchor(t time.Time) Rate { r.Anchor = t; return r }

// String implements Schedule.
func (r Rate) String() string { return r.expr }

// Next implements Schedule: Anchor + k*Every for the least k >= 1 after after.
func (r Rate) Next(after time.Time) time.Time {
	anchor := r.Anchor
	if anchor.IsZero() {
		anchor = time.Unix(0, 0)
	}
	anchor = anchor.UTC()
	if after.Before(anchor) {
		return anchor.Add(r.Every)
	}
	k := after.Sub(anchor)/r.Every + 1
	return anchor.Add(k * r.Every)
}
