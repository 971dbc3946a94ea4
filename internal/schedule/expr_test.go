package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Examples from the EventBridge user guide, "Cron expressions reference"
// and "Rate expressions reference"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html),
// plus the L, W and # wildcards the page describes. 2026-11-26 is a Thursday.
func TestNextAWSExamples(t *testing.T) {
	cases := []struct {
		name, expr, after string
		want              []string // successive Next values
	}{
		{"10:00 every day", "cron(0 10 * * ? *)", "2026-11-26T09:59", []string{"2026-11-26T10:00", "2026-11-27T10:00"}},
		{"12:15 every day", "cron(15 12 * * ? *)", "2026-11-26T12:15", []string{"2026-11-27T12:15"}},
		{"18:00 Monday through Friday", "cron(0 18 ? * MON-FRI *)", "2026-11-27T17:00", []string{"2026-11-27T18:00", "2026-11-30T18:00"}},
		{"08:00 first day of the month", "cron(0 8 1 * ? *)", "2026-11-26T00:00", []string{"2026-12-01T08:00", "2027-01-01T08:00"}},
		{"every 15 minutes", "cron(0/15 * * * ? *)", "2026-11-26T23:40", []string{"2026-11-26T23:45", "2026-11-27T00:00", "2026-11-27T00:15"}},
		{"every 10 minutes Monday-Friday", "cron(0/10 * ? * MON-FRI *)", "2026-11-27T23:55", []string{"2026-11-30T00:00", "2026-11-30T00:10"}},
		{"every 5 minutes 8:00-17:55 weekdays", "cron(0/5 8-17 ? * MON-FRI *)", "2026-11-27T17:50", []string{"2026-11-27T17:55", "2026-11-30T08:00"}},
		{"09:00 first Monday", "cron(0 9 ? * 2#1 *)", "2026-11-26T00:00", []string{"2026-12-07T09:00", "2027-01-04T09:00"}},
		{"second Tuesday (3#2)", "cron(0 0 ? * 3#2 *)", "2026-11-26T00:00", []string{"2026-12-08T00:00"}},
		{"1/10 minutes", "cron(1/10 * * * ? *)", "2026-11-26T10:01", []string{"2026-11-26T10:11", "2026-11-26T10:21"}},
		{"last day of month", "cron(0 0 L * ? *)", "2028-02-01T00:00", []string{"2028-02-29T00:00", "2028-03-31T00:00"}},
		{"last weekday of month", "cron(0 0 LW * ? *)", "2026-05-01T00:00", []string{"2026-05-29T00:00"}},
		{"weekday nearest the 1st, a Saturday", "cron(0 0 1W * ? *)", "2026-07-31T00:00", []string{"2026-08-03T00:00"}},
		{"weekday nearest the 15th, a Sunday", "cron(0 0 15W * ? *)", "2026-11-01T00:00", []string{"2026-11-16T00:00"}},
		{"weekday nearest the 28th, a Saturday", "cron(0 0 28W * ? *)", "2026-02-01T00:00", []string{"2026-02-27T00:00"}},
		{"last Friday", "cron(0 12 ? * 6L *)", "2026-11-01T00:00", []string{"2026-11-27T12:00", "2026-12-25T12:00"}},
		{"L in day-of-week is Saturday", "cron(0 0 ? * L *)", "2026-11-26T00:00", []string{"2026-11-28T00:00"}},
		{"names and lists", "cron(0 6 ? jan,Jul sun *)", "2026-11-26T00:00", []string{"2027-01-03T06:00"}},
		{"31st skips short months", "cron(0 0 31 * ? *)", "2026-11-01T00:00", []string{"2026-12-31T00:00", "2027-01-31T00:00", "2027-03-31T00:00"}},
		{"one year only", "cron(30 4 1 1 ? 2027)", "2026-11-26T00:00", []string{"2027-01-01T04:30", "0001-01-01T00:00"}},
		{"year range end", "cron(0 0 1 1 ? 2198-2199)", "2199-01-01T00:00", []string{"0001-01-01T00:00"}},
		{"seconds are dropped", "cron(* * * * ? *)", "2026-11-26T10:00", []string{"2026-11-26T10:01"}},
		{"rate 1 minute", "rate(1 minute)", "2026-11-26T10:00", []string{"2026-11-26T10:01"}},
		{"rate 5 minutes on the epoch grid", "rate(5 minutes)", "2026-11-26T10:02", []string{"2026-11-26T10:05", "2026-11-26T10:10"}},
		{"rate 1 hour", "rate(1 hour)", "2026-11-26T10:00", []string{"2026-11-26T11:00"}},
		{"rate 1 day", "rate(1 day)", "2026-11-26T10:00", []string{"2026-11-27T00:00"}},
		{"rate 2 days", "rate(2 days)", "2026-11-26T10:00", []string{"2026-11-27T00:00", "2026-11-29T00:00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(c.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.expr, err)
			}
			if s.String() != c.expr {
				t.Errorf("String() = %q", s.String())
			}
			at := ts(c.after)
			for i, w := range c.want {
				got := s.Next(at)
				want := ts(w)
				if w == "0001-01-01T00:00" {
					want = time.Time{}
				}
				if !got.Equal(want) {
					t.Fatalf("Next #%d after %s = %s, want %s", i+1, at.Format(time.RFC3339), got.Format(time.RFC3339), want.Format(time.RFC3339))
				}
				if got.IsZero() {
					break
				}
				at = got
			}
		})
	}
}

func TestRateAnchor(t *testing.T) {
	s, err := Parse("rate(10 minutes)")
	if err != nil {
		t.Fatal(err)
	}
	r := s.(Rate).WithAnchor(ts("2026-11-26T10:03"))
	for _, c := range []struct{ after, want string }{
		{"2026-11-26T09:00", "2026-11-26T10:13"},
		{"2026-11-26T10:03", "2026-11-26T10:13"},
		{"2026-11-26T10:12", "2026-11-26T10:13"},
		{"2026-11-26T10:13", "2026-11-26T10:23"},
	} {
		if got := r.Next(ts(c.after)); !got.Equal(ts(c.want)) {
			t.Errorf("Next(%s) = %s, want %s", c.after, got, c.want)
		}
	}
}

// Invalid expressions say which field is wrong.
func TestParseErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"rate(1 hours)", "singular"},
		{"rate(5 hour)", "plural"},
		{"rate(0 minutes)", "positive integer"},
		{"rate(-1 minutes)", "positive integer"},
		{"rate(1.5 hours)", "positive integer"},
		{"rate(+2 hours)", "positive integer"},
		{"rate(5 weeks)", "unit"},
		{"rate(5minutes)", "two fields"},
		{"rate(99999999999 days)", "too long"},
		{"every 5 minutes", "want rate"},
		{"cron(0 10 * *)", "six fields"},
		{"cron(0 10 * * ? * *)", "six fields"},
		{"cron(0 10 * * * *)", "field 5 (day-of-week)"},
		{"cron(0 10 ? * ? *)", "cannot both be ?"},
		{"cron(0 10 1 * MON *)", "must be ?"},
		{"cron(60 * * * ? *)", "field 1 (minutes) \"60\": value 60 is out of range 0-59"},
		{"cron(0 24 * * ? *)", "field 2 (hours)"},
		{"cron(0 0 32 * ? *)", "field 3 (day-of-month)"},
		{"cron(0 0 0 * ? *)", "field 3 (day-of-month)"},
		{"cron(0 0 ? 13 MON *)", "field 4 (month)"},
		{"cron(0 0 ? FOO MON *)", "field 4 (month) \"FOO\": \"FOO\" is not a number 1-12 or a name JAN-DEC"},
		{"cron(0 0 ? * 8 *)", "field 5 (day-of-week)"},
		{"cron(0 0 ? * 0 *)", "field 5 (day-of-week)"},
		{"cron(0 0 * * ? 1969)", "field 6 (year)"},
		{"cron(0 0 * * ? 2200)", "field 6 (year)"},
		{"cron(0 0 ? * 3#1,6#3 *)", "only one"},
		{"cron(0 0 ? * 3#6 *)", "1-5"},
		{"cron(0 0 ? * MON/2 *)", "/ is not allowed in day-of-week"},
		{"cron(0 0 5-1 * ? *)", "runs backwards"},
		{"cron(? 0 * * ? *)", "field 1 (minutes) \"?\""},
		{"cron(*/0 0 * * ? *)", "increment"},
		{"cron(0/61 0 * * ? *)", "increment 61"},
		{"cron(0 0 1,L * ? *)", "stand alone"},
		{"cron(0 0 L-2 * ? *)", "field 3"},
		{"cron(0 0 32W * ? *)", "field 3"},
		{"cron(0 0 * L * ?)", "field 4"},
		{"cron(1,,2 0 * * ? *)", "empty list element"},
		{"cron(0 0 ? * MON-L *)", "field 5"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			_, err := Parse(c.expr)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", c.expr)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// Next is strictly after its argument, minute-aligned, and nothing between
// the two matches (checked by brute force over a month of minutes).
func TestNextAgainstBruteForce(t *testing.T) {
	exprs := []string{
		"cron(0/7 */5 ? * MON,WED,SAT *)", "cron(13 3 LW * ? *)", "cron(0 0 ? * 5L *)",
		"cron(0 12 10W * ? *)", "cron(59 23 ? * 1#5 *)", "cron(5-10/2 1-3 2,4,6 * ? *)",
	}
	for _, e := range exprs {
		s, err := Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		c := s.(*Cron)
		start := ts("2026-01-01T00:00")
		end := start.AddDate(0, 2, 0)
		next := c.Next(start.Add(-time.Minute))
		for m := start; m.Before(end); m = m.Add(time.Minute) {
			match := c.years.has(m.Year()-1970) && c.months.has(int(m.Month())) && c.dayMatches(m.Year(), m.Month(), m.Day()) && c.hours.has(m.Hour()) && c.minutes.has(m.Minute())
			if match {
				if !next.Equal(m) {
					t.Fatalf("%s: Next reached %s but %s matches", e, next, m)
				}
				next = c.Next(m)
			}
		}
	}
}
