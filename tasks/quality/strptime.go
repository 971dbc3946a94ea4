package quality

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// strptime reproduces Python's datetime.strptime acceptance rules, which
// GE's expect_column_values_to_match_strftime_format applies to each value
// (a ValueError makes the value unexpected). CPython's Lib/_strptime.py
// turns the format into a regular expression (directive patterns below,
// whitespace as \s+, case-insensitive), matches it at the start of the
// value, requires the whole value to be consumed ("unconverted data
// remains"), then builds a date, which fails for days a month does not
// have (1900 is the year when the format has none). RE2's leftmost-first
// alternation picks the same match as Python's backtracking engine.
// Supported directives: %a %A %b %B %d %f %H %I %j %m %M %p %S %u %U %w %W
// %y %Y %z %Z %%; locale forms (%c %x %X) and ISO week dates (%G %V) are
// refused as a configuration error.
type strptime struct {
	re     *regexp.Regexp
	fields []string // group name per submatch index
}

var directives = map[byte]string{
	'd': `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`,
	'f': `[0-9]{1,6}`,
	'H': `2[0-3]|[0-1]\d|\d`,
	'I': `1[0-2]|0[1-9]|[1-9]`,
	'j': `36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9]`,
	'm': `1[0-2]|0[1-9]|[1-9]`,
	'M': `[0-5]\d|\d`,
	'S': `6[01]|[0-5]\d|\d`,
	'U': `5[0-3]|[0-4]\d|\d`,
	'W': `5[0-3]|[0-4]\d|\d`,
	'w': `[0-6]`,
	'u': `[1-7]`,
	'y': `\d\d`,
	'Y': `\d\d\d\d`,
	'z': `[+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|(?-i:Z)`,
	'a': `mon|tue|wed|thu|fri|sat|sun`,
	'A': `monday|tuesday|wednesday|thursday|friday|saturday|sunday`,
	'b': `jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec`,
	'B': `january|february|march|april|may|june|july|august|september|october|november|december`,
	'p': `am|pm`,
	'Z': `utc|gmt`,
}

var whitespace = regexp.MustCompile(`\s+`)

func compileStrptime(format string) (*strptime, error) {
	var b strings.Builder
	b.WriteString(`(?i)^`)
	fields := []string{""}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			// A literal run up to the next directive; runs of whitespace
			// match any run of whitespace.
			end := strings.IndexByte(format[i:], '%')
			if end < 0 {
				end = len(format) - i
			}
			lit := format[i : i+end]
			parts := whitespace.Split(lit, -1)
			for k, part := range parts {
				if k > 0 {
					b.WriteString(`\s+`)
				}
				b.WriteString(regexp.QuoteMeta(part))
			}
			i += end - 1
			continue
		}
		if i+1 == len(format) {
			return nil, fmt.Errorf("stray %% in format %q", format)
		}
		i++
		d := format[i]
		if d == '%' {
			b.WriteString(`%`)
			continue
		}
		pat, ok := directives[d]
		if !ok {
			return nil, fmt.Errorf("'%%%c' is a bad (or unsupported) directive in format %q", d, format)
		}
		fmt.Fprintf(&b, "(%s)", pat)
		fields = append(fields, string(d))
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("strftime format %q: %w", format, err)
	}
	// Inner groups of %z are non-capturing, so submatch i is fields[i].
	return &strptime{re: re, fields: fields}, nil
}

var monthAbbr = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parses reports whether Python's datetime.strptime(s, format) would
// return a value instead of raising ValueError.
func (p *strptime) parses(s string) bool {
	m := p.re.FindStringSubmatchIndex(s)
	if m == nil || m[1] != len(s) {
		return false
	}
	year, month, day, julian := 1900, 1, 1, 0
	hour, second := 0, 0
	for i := 1; i < len(p.fields); i++ {
		v := strings.TrimSpace(s[m[2*i]:m[2*i+1]])
		n, _ := strconv.Atoi(v)
		switch p.fields[i] {
		case "Y":
			year = n
		case "y":
			if n < 69 {
				year = 2000 + n
			} else {
				year = 1900 + n
			}
		case "m":
			month = n
		case "b", "B":
			l := strings.ToLower(v)
			for k, a := range monthAbbr {
				if strings.HasPrefix(l, a) {
					month = k + 1
				}
			}
		case "d":
			day = n
		case "j":
			julian = n
		case "H", "I":
			hour = n
		case "S":
			second = n
		case "z":
			if v != "Z" && v != "z" {
				hh, _ := strconv.Atoi(v[1:3])
				if hh >= 24 {
					return false // timezone offsets must be strictly between -24h and 24h
				}
			}
		}
	}
	_ = hour
	if second > 59 {
		return false // datetime() refuses leap seconds
	}
	if julian > 0 {
		// Day of year: 366 only exists in leap years.
		t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, julian-1)
		return t.Year() == year
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	return t.Day() == day && int(t.Month()) == month
}
