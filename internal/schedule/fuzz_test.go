package schedule

import (
	"testing"
	"time"
)

// FuzzParse: the parser never panics, and a parsed schedule's Next is
// strictly later than its argument (or zero).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"rate(1 minute)", "rate(5 minutes)", "rate(1 hours)", "cron(0 10 * * ? *)",
		"cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)", "cron(0 0 LW * ? *)",
		"cron(0 0 15W * ? 2027-2030)", "cron(0 12 ? * 6L *)", "cron(,,, * * * ? *)", "cron(0 0 ? * 3#1,6#3 *)",
	} {
		f.Add(s)
	}
	after := time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		n := s.Next(after)
		if !n.IsZero() && !n.After(after) {
			t.Fatalf("%q: Next(%s) = %s", expr, after, n)
		}
	})
}
