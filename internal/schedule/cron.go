package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// bits is a set of small integers (0..255).
type bits [4]uint64

func (b *bits) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b *bits) has(i int) bool { return i >= 0 && i < 256 && b[i/64]&(1<<(i%64)) != 0 }

// field describes one cron field.
type field struct {
	index    int // 1-based position, for errors
	name     string
	min, max int
	names    []string // names for min, min+1, ... (months, days of week)
	wild     string   // wildcards allowed besides digits and names
}

var (
	fMinutes = field{1, "minutes", 0, 59, nil, ",-*/"}
	fHours   = field{2, "hours", 0, 23, nil, ",-*/"}
	fDom     = field{3, "day-of-month", 1, 31, nil, ",-*?/LW"}
	fMonth   = field{4, "month", 1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}, ",-*/"}
	fDow     = field{5, "day-of-week", 1, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, ",-*?L#"}
	fYear    = field{6, "year", 1970, 2199, nil, ",-*/"}
)

// Day-of-month kinds.
const (
	domAny    = iota // ?
	domSet           // list of days
	domLast          // L
	domLastWk        // LW
	domNearWk        // nW
)

// Day-of-week kinds.
const (
	dowAny  = iota // ?
	dowSet         // list of weekdays
	dowLast        // nL: last weekday n of the month
	dowNth         // n#k: k-th weekday n of the month
)

// Cron is a parsed cron(...) expression.
type Cron struct {
	expr                   string
	minutes, hours, months bits
	years                  bits // offset from 1970
	domKind                int
	dom                    bits
	domDay                 int // nW
	dowKind                int
	dow                    bits // 1..7
	dowDay, dowNth         int  // nL, n#k
}

// String implements Schedule.
func (c *Cron) String() string { return c.expr }

type cronError struct {
	expr  string
	f     field
	text  string
	cause string
}

func (e *cronError) Error() string {
	return fmt.Sprintf("%s %q: field %d (%s) %q: %s", ErrSyntax, e.expr, e.f.index, e.f.name, e.text, e.cause)
}

func (e *cronError) Unwrap() error { return ErrSyntax }

func parseCron(expr, body string) (Schedule, error) {
	fs := strings.Fields(body)
	if len(fs) != 6 {
		return nil, fmt.Errorf("%w %q: cron takes six fields (minutes hours day-of-month month day-of-week year), got %d", ErrSyntax, expr, len(fs))
	}
	c := &Cron{expr: expr}
	fail := func(f field, text, format string, args ...any) error {
		return &cronError{expr: expr, f: f, text: text, cause: fmt.Sprintf(format, args...)}
	}
	p := parser{fail: fail}
	var err error
	if c.minutes, err = p.list(fMinutes, fs[0]); err != nil {
		return nil, err
	}
	if c.hours, err = p.list(fHours, fs[1]); err != nil {
		return nil, err
	}
	if c.months, err = p.list(fMonth, fs[3]); err != nil {
		return nil, err
	}
	if c.years, err = p.list(fYear, fs[5]); err != nil {
		return nil, err
	}
	if err := c.parseDom(p, fs[2]); err != nil {
		return nil, err
	}
	if err := c.parseDow(p, fs[4]); err != nil {
		return nil, err
	}
	switch {
	case c.domKind == domAny && c.dowKind == dowAny:
		return nil, fail(fDow, fs[4], "day-of-month and day-of-week cannot both be ?")
	case c.domKind != domAny && c.dowKind != dowAny:
		return nil, fail(fDow, fs[4], "one of day-of-month (%q) and day-of-week must be ?", fs[2])
	}
	return c, nil
}

type parser struct {
	fail func(f field, text, format string, args ...any) error
}

// list parses a comma-separated list of *, n, a-b, with an optional /step.
// Years are stored offset from 1970 so they fit in bits.
func (p parser) list(f field, text string) (bits, error) {
	var b bits
	if text == "?" {
		return b, p.fail(f, text, "? is only allowed in day-of-month and day-of-week")
	}
	for _, item := range strings.Split(text, ",") {
		lo, hi, step, err := p.item(f, text, item)
		if err != nil {
			return b, err
		}
		for i := lo; i <= hi; i += step {
			if f.min >= 1970 {
				b.set(i - 1970)
			} else {
				b.set(i)
			}
		}
	}
	return b, nil
}

// item parses one list element into lo..hi by step.
func (p parser) item(f field, text, item string) (lo, hi, step int, err error) {
	if item == "" {
		return 0, 0, 0, p.fail(f, text, "empty list element")
	}
	step = 1
	rng := item
	if r, s, ok := strings.Cut(item, "/"); ok {
		if !strings.Contains(f.wild, "/") {
			return 0, 0, 0, p.fail(f, text, "/ is not allowed in %s", f.name)
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, 0, 0, p.fail(f, text, "increment %q is not a positive integer", s)
		}
		if n > f.max-f.min+1 {
			return 0, 0, 0, p.fail(f, text, "increment %d is larger than the field's range %d-%d", n, f.min, f.max)
		}
		step, rng = n, r
	}
	switch {
	case rng == "*":
		return f.min, f.max, step, nil
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		if lo, err = p.value(f, text, a); err != nil {
			return 0, 0, 0, err
		}
		if hi, err = p.value(f, text, b); err != nil {
			return 0, 0, 0, err
		}
		if lo > hi {
			return 0, 0, 0, p.fail(f, text, "range %s runs backwards", rng)
		}
		return lo, hi, step, nil
	}
	if lo, err = p.value(f, text, rng); err != nil {
		return 0, 0, 0, err
	}
	if step > 1 || strings.Contains(item, "/") {
		return lo, f.max, step, nil // a/n: from a to the end of the range
	}
	return lo, lo, 1, nil
}

// value parses a number or a name within the field's range.
func (p parser) value(f field, text, s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		if f.names != nil {
			return 0, p.fail(f, text, "%q is not a number %d-%d or a name %s-%s", s, f.min, f.max, f.names[0], f.names[len(f.names)-1])
		}
		return 0, p.fail(f, text, "%q is not a number %d-%d", s, f.min, f.max)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, p.fail(f, text, "value %s is out of range %d-%d", s, f.min, f.max)
	}
	return n, nil
}

func (c *Cron) parseDom(p parser, text string) error {
	switch {
	case text == "?":
		c.domKind = domAny
		return nil
	case text == "L":
		c.domKind = domLast
		return nil
	case text == "LW":
		c.domKind = domLastWk
		return nil
	case strings.HasSuffix(text, "W"):
		n, err := p.value(fDom, text, strings.TrimSuffix(text, "W"))
		if err != nil {
			return p.fail(fDom, text, "W takes a single day 1-31 (e.g. 3W) or L (LW)")
		}
		c.domKind, c.domDay = domNearWk, n
		return nil
	case strings.ContainsAny(text, "LW?"):
		return p.fail(fDom, text, "L, W and ? stand alone (L, LW, nW, ?), not in lists or ranges")
	}
	b, err := p.list(fDom, text)
	if err != nil {
		return err
	}
	c.domKind, c.dom = domSet, b
	return nil
}

func (c *Cron) parseDow(p parser, text string) error {
	switch {
	case text == "?":
		c.dowKind = dowAny
		return nil
	case text == "L":
		// L alone is the last day of the week: Saturday.
		c.dowKind = dowSet
		c.dow.set(7)
		return nil
	case strings.Contains(text, "#"):
		if strings.ContainsAny(text, ",-*L") {
			return p.fail(fDow, text, "a # expression must be the only one in day-of-week (e.g. 3#2)")
		}
		d, k, _ := strings.Cut(text, "#")
		n, err := p.value(fDow, text, d)
		if err != nil {
			return err
		}
		nth, err := strconv.Atoi(k)
		if err != nil || nth < 1 || nth > 5 || strings.TrimLeft(k, "0123456789") != "" {
			return p.fail(fDow, text, "the instance after # must be 1-5, got %q", k)
		}
		c.dowKind, c.dowDay, c.dowNth = dowNth, n, nth
		return nil
	case strings.HasSuffix(text, "L"):
		n, err := p.value(fDow, text, strings.TrimSuffix(text, "L"))
		if err != nil {
			return p.fail(fDow, text, "nL takes a single weekday 1-7 or SUN-SAT (e.g. 6L, the last Friday)")
		}
		c.dowKind, c.dowDay = dowLast, n
		return nil
	case strings.ContainsAny(text, "?"):
		return p.fail(fDow, text, "? stands alone")
	}
	b, err := p.list(fDow, text)
	if err != nil {
		return err
	}
	c.dowKind, c.dow = dowSet, b
	return nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearestWeekday is the weekday nearest day n of the month without leaving
// the month (Quartz's W).
func nearestWeekday(y int, m time.Month, n int) int {
	last := daysIn(y, m)
	if n > last {
		n = last
	}
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // Friday
		}
		return n + 1
	}
	return n
}

// dayMatches reports whether the date is selected by the day fields.
func (c *Cron) dayMatches(y int, m time.Month, d int) bool {
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // 1 = Sunday
	last := daysIn(y, m)
	switch c.domKind {
	case domSet:
		return c.dom.has(d)
	case domLast:
		return d == last
	case domLastWk:
		return d == nearestWeekday(y, m, last)
	case domNearWk:
		if c.domDay > last {
			// Quartz: a day past the month's end does not fire that month.
			return false
		}
		return d == nearestWeekday(y, m, c.domDay)
	}
	switch c.dowKind {
	case dowSet:
		return c.dow.has(wd)
	case dowLast:
		return wd == c.dowDay && d+7 > last
	case dowNth:
		return wd == c.dowDay && (d-1)/7+1 == c.dowNth
	}
	return false
}

// Next implements Schedule.
func (c *Cron) Next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	if t.Year() < fYear.min {
		t = time.Date(fYear.min, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	// Each step moves to the start of the next candidate year, month, day,
	// hour or minute, so the loop is bounded by the calendar, not by minutes.
	for t.Year() <= fYear.max {
		y, m, d := t.Date()
		switch {
		case !c.years.has(y - 1970):
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
		case !c.months.has(int(m)):
			t = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(y, m, d):
			t = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
		case !c.hours.has(t.Hour()):
			t = time.Date(y, m, d, t.Hour()+1, 0, 0, 0, time.UTC)
		case !c.minutes.has(t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}
