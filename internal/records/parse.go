package records

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Reason classifies why an input could not become a record. The values are
// stable: they appear in quarantine files and counts.
type Reason string

const (
	MalformedJSON     Reason = "malformed_json"
	NotObject         Reason = "not_object"
	UnknownRecordType Reason = "unknown_record_type"
	MissingField      Reason = "missing_field"
	WrongType         Reason = "wrong_type"
	UnknownField      Reason = "unknown_field"
	DuplicateField    Reason = "duplicate_field"
	InvalidValue      Reason = "invalid_value"
	// Oversized and Truncated are found by the decoder, before parsing.
	Oversized Reason = "oversized"
	Truncated Reason = "truncated"
)

// Invalid is the error Parse returns for a bad record. RecordType and Dt
// are filled in as far as they could be determined, so the quarantine can
// file the record under its type and partition.
type Invalid struct {
	Reason     Reason
	Field      string // the offending field, when there is one
	Detail     string
	RecordType string // a registered type name, or ""
	Dt         string // YYYY-MM-DD from a valid event_time, or ""
}

func (e *Invalid) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %s", e.Reason, e.Field, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
}

// Value is one field's value; which member is meaningful depends on the
// field's Kind. Null is set for an absent optional field.
type Value struct {
	Str  string
	Num  float64
	Int  int64
	Time time.Time
	Null bool
}

// Record is one valid, typed record. Its strings are safe to retain; they
// may share a block of memory with other records' strings (read only), so
// a retained string keeps its block alive: copy one that is kept long
// (silver's dedupe set copies event ids).
type Record struct {
	Type      *Type
	EventID   string // "" when absent
	EventTime time.Time
	// Values holds one value per Type.Fields entry, in that order.
	Values []Value
}

// Day is the UTC day number of EventTime (days since 1970-01-01); it is a
// cheap partition key (see Dt for the name).
func (r *Record) Day() int64 { return floorDiv(r.EventTime.Unix(), 86400) }

// Dt is the partition name of the record: the UTC date of EventTime.
func (r *Record) Dt() string { return r.EventTime.Format("2006-01-02") }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Parser parses records against a registry. It reuses its scratch space, so
// one Parser must not be used concurrently; make one per goroutine.
type Parser struct {
	reg     *Registry
	members []member
	// block holds the bytes of the string values handed out (the input
	// line is reused by the decoder, so they must be copied), shared by
	// many records: one allocation per block instead of one per record
	// cut GC work. Bytes handed out are never written again, so the
	// strings stay immutable; a full block is left to the strings that
	// reference it and a new one is started.
	block []byte
}

// blockBytes is the size of a string block: a few hundred records, so a
// block is garbage soon after the rows that use it are written.
const blockBytes = 32 << 10

// NewParser returns a parser for the registry's types.
func (r *Registry) NewParser() *Parser { return &Parser{reg: r, members: make([]member, 0, 16)} }

// Parse parses one JSON object into rec (reusing rec.Values). On a bad
// record it returns an *Invalid.
func (p *Parser) Parse(data []byte, rec *Record) error {
	ms, err := scanObject(data, p.members[:0])
	p.members = ms[:0]
	if err == errNotObject {
		return &Invalid{Reason: NotObject, Detail: "top-level JSON value is not an object"}
	}
	if err != nil {
		return &Invalid{Reason: MalformedJSON, Detail: err.Error()}
	}
	// Envelope first: the type decides how the rest is read.
	var rtm, idm, tm *member
	for i := range ms {
		m := &ms[i]
		var k string
		if m.keyEsc {
			k = unescape(m.key, true)
		} else {
			k = bstr(m.key)
		}
		switch k {
		case "record_type":
			if rtm != nil {
				return &Invalid{Reason: DuplicateField, Field: k, Detail: "field appears more than once"}
			}
			rtm = m
		case "event_id":
			if idm != nil {
				return &Invalid{Reason: DuplicateField, Field: k, Detail: "field appears more than once"}
			}
			idm = m
		case "event_time":
			if tm != nil {
				return &Invalid{Reason: DuplicateField, Field: k, Detail: "field appears more than once"}
			}
			tm = m
		}
	}
	if rtm == nil {
		return &Invalid{Reason: MissingField, Field: "record_type", Detail: "required field is missing"}
	}
	if rtm.kind != kindString {
		return &Invalid{Reason: WrongType, Field: "record_type", Detail: "want string, got " + rtm.kind.String()}
	}
	name := p.str(rtm)
	typ := p.reg.find(name)
	if typ == nil {
		return &Invalid{Reason: UnknownRecordType, Field: "record_type", Detail: fmt.Sprintf("%q is not a registered record type", truncate(name, 64))}
	}
	hasTime := false
	fail := func(r Reason, field, detail string) error {
		bad := &Invalid{Reason: r, Field: field, Detail: detail, RecordType: typ.Name}
		if hasTime {
			bad.Dt = rec.Dt()
		}
		return bad
	}
	rec.Type = typ
	if tm == nil {
		return fail(MissingField, "event_time", "required field is missing")
	}
	if tm.kind != kindString {
		return fail(WrongType, "event_time", "want RFC 3339 string, got "+tm.kind.String())
	}
	t, err := ParseTime(p.str(tm))
	if err != nil {
		return fail(InvalidValue, "event_time", err.Error())
	}
	rec.EventTime = t
	hasTime = true
	rec.EventID = ""
	if idm != nil {
		switch idm.kind {
		case kindNull:
		case kindString:
			if !p.stage(idm, &rec.EventID) {
				return fail(InvalidValue, "event_id", "invalid UTF-8")
			}
		default:
			return fail(WrongType, "event_id", "want string, got "+idm.kind.String())
		}
	}
	if cap(rec.Values) < len(typ.Fields) {
		rec.Values = make([]Value, len(typ.Fields))
	}
	rec.Values = rec.Values[:len(typ.Fields)]
	var seen uint64
	next := 0 // fields usually come in declaration order: try that one first
	for i := range ms {
		m := &ms[i]
		if m == rtm || m == idm || m == tm {
			continue
		}
		var k string
		if m.keyEsc {
			k = unescape(m.key, true)
		} else {
			k = bstr(m.key)
		}
		fi, ok := typ.lookup(k, next)
		next = fi + 1
		if !ok {
			return fail(UnknownField, truncate(k, 64), "not a field of "+typ.Name)
		}
		if seen&(1<<fi) != 0 {
			return fail(DuplicateField, k, "field appears more than once")
		}
		seen |= 1 << fi
		f := &typ.Fields[fi]
		v := &rec.Values[fi]
		*v = Value{}
		if m.kind == kindNull && !f.Required {
			v.Null = true
			continue
		}
		switch f.Kind {
		case String:
			if m.kind != kindString {
				return fail(WrongType, f.Name, "want string, got "+describe(m))
			}
			if !p.stage(m, &v.Str) {
				return fail(InvalidValue, f.Name, "invalid UTF-8")
			}
			if f.Required && len(m.val) == 2 {
				return fail(InvalidValue, f.Name, "required string is empty")
			}
		case Float:
			if m.kind != kindNumber {
				return fail(WrongType, f.Name, "want number, got "+describe(m))
			}
			x, err := strconv.ParseFloat(bstr(m.val), 64)
			if err != nil || math.IsInf(x, 0) {
				return fail(InvalidValue, f.Name, "number out of range: "+truncate(string(m.val), 40))
			}
			if f.HasMin && x < f.Min {
				return fail(InvalidValue, f.Name, fmt.Sprintf("%v is below the minimum %v", x, f.Min))
			}
			v.Num = x
		case Int:
			if m.kind != kindNumber || !m.intLit {
				return fail(WrongType, f.Name, "want integer, got "+describe(m))
			}
			x, err := strconv.ParseInt(bstr(m.val), 10, 64)
			if err != nil {
				return fail(InvalidValue, f.Name, "integer out of int64 range: "+truncate(string(m.val), 40))
			}
			if f.HasMin && float64(x) < f.Min {
				return fail(InvalidValue, f.Name, fmt.Sprintf("%d is below the minimum %v", x, f.Min))
			}
			v.Int = x
		case Time:
			if m.kind != kindString {
				return fail(WrongType, f.Name, "want RFC 3339 string, got "+describe(m))
			}
			t, err := ParseTime(p.str(m))
			if err != nil {
				return fail(InvalidValue, f.Name, err.Error())
			}
			v.Time = t
		}
	}
	for i := range typ.Fields {
		if seen&(1<<i) != 0 {
			continue
		}
		f := &typ.Fields[i]
		if f.Required {
			return fail(MissingField, f.Name, "required field is missing")
		}
		rec.Values[i] = Value{Null: true}
	}
	return nil
}

// stage validates a string value and sets *dst to a copy of it that is
// safe to retain (in the parser's current block, or its own allocation
// for escaped strings, which are rare).
func (p *Parser) stage(m *member, dst *string) bool {
	if m.esc {
		*dst = unescape(m.val, false)
		return utf8.ValidString(*dst)
	}
	raw := m.val[1 : len(m.val)-1]
	if !m.ascii && !utf8.Valid(raw) {
		return false
	}
	*dst = p.keep(raw)
	return true
}

// keep copies b into the current block and returns it as a string.
func (p *Parser) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(p.block)-len(p.block) < len(b) {
		p.block = make([]byte, 0, max(blockBytes, len(b)))
	}
	start := len(p.block)
	p.block = append(p.block, b...)
	return unsafe.String(&p.block[start], len(b))
}

// describe names a raw value's JSON type for a wrong-type reason, with the
// value itself when short (`string "3"`, `number 3.5`).
func describe(m *member) string {
	switch m.kind {
	case kindString, kindNumber, kindBool:
		return m.kind.String() + " " + truncate(string(m.val), 40)
	}
	return m.kind.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// str returns a string value's text without copying when it has no escapes;
// the result aliases the input and must not be retained.
func (p *Parser) str(m *member) string {
	if m.esc {
		return unescape(m.val, false)
	}
	return bstr(m.val[1 : len(m.val)-1])
}

// unescape decodes a JSON string with escapes (rare path): encoding/json
// does the work so escapes and surrogates behave exactly as there.
func unescape(raw []byte, bare bool) string {
	var s string
	if bare {
		b := make([]byte, 0, len(raw)+2)
		b = append(b, '"')
		b = append(b, raw...)
		b = append(b, '"')
		raw = b
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw)
	}
	return s
}

// bstr views b as a string without copying; only for transient use
// (map lookups, strconv) while b is alive and unchanged.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
