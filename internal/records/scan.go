package records

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A strict, allocation-free scanner for one JSON object. It accepts exactly
// what encoding/json accepts (RFC 8259 syntax; invalid UTF-8 inside strings
// is left to the caller) and records the object's top-level members as raw
// byte slices, so the parser can look the record type up before converting
// any value. The fuzz target checks it against json.Valid.

// jsonKind is the JSON type of a raw value.
type jsonKind uint8

const (
	kindString jsonKind = iota + 1
	kindNumber
	kindBool
	kindNull
	kindObject
	kindArray
)

func (k jsonKind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	case kindNull:
		return "null"
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	}
	return "value"
}

// member is one top-level name/value pair of the scanned object.
type member struct {
	key    []byte // raw, without quotes
	keyEsc bool   // key contains escapes (compare after unescaping)
	val    []byte // raw JSON text of the value
	kind   jsonKind
	esc    bool // string value contains escapes
	ascii  bool // string value is plain ASCII (no UTF-8 check needed)
	intLit bool // number value is an integer literal (no fraction or exponent)
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

var errNotObject = errors.New("not an object")

type scanner struct {
	data  []byte
	pos   int
	depth int
	// nonASCII is set when a string scanned since the flag was cleared had a
	// byte >= 0x80 (only then must its UTF-8 be checked).
	nonASCII bool
}

type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

func (s *scanner) fail(msg string) error { return &syntaxError{msg: msg, off: s.pos} }

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// scanObject scans data as exactly one JSON object (surrounded by optional
// whitespace) and appends its members to ms. It returns errNotObject when
// data is a valid JSON value of another type, a *syntaxError when it is not
// valid JSON.
func scanObject(data []byte, ms []member) ([]member, error) {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) {
		return ms, s.fail("unexpected end of JSON input")
	}
	if data[s.pos] != '{' {
		if _, err := s.value(); err != nil {
			return ms, err
		}
		s.skipSpace()
		if s.pos != len(data) {
			return ms, s.fail("invalid character after top-level value")
		}
		return ms, errNotObject
	}
	s.pos++
	s.depth = 1
	s.skipSpace()
	if s.pos < len(data) && data[s.pos] == '}' {
		s.pos++
	} else {
		for {
			s.skipSpace()
			if s.pos >= len(data) {
				return ms, s.fail("unexpected end of JSON input")
			}
			if data[s.pos] != '"' {
				return ms, s.fail("expected string for object key")
			}
			kstart := s.pos + 1
			kesc, err := s.str()
			if err != nil {
				return ms, err
			}
			m := member{key: data[kstart : s.pos-1], keyEsc: kesc}
			s.skipSpace()
			if s.pos >= len(data) || data[s.pos] != ':' {
				return ms, s.fail("expected ':' after object key")
			}
			s.pos++
			s.skipSpace()
			vstart := s.pos
			if s.pos < len(data) {
				switch data[s.pos] {
				case '"':
					m.kind = kindString
					s.nonASCII = false
					m.esc, err = s.str()
					m.ascii = !s.nonASCII
				case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
					m.kind = kindNumber
					m.intLit, err = s.number()
				default:
					m.kind, err = s.value()
				}
			} else {
				err = s.fail("unexpected end of JSON input")
			}
			if err != nil {
				return ms, err
			}
			m.val = data[vstart:s.pos]
			ms = append(ms, m)
			s.skipSpace()
			if s.pos >= len(data) {
				return ms, s.fail("unexpected end of JSON input")
			}
			if data[s.pos] == ',' {
				s.pos++
				continue
			}
			if data[s.pos] == '}' {
				s.pos++
				break
			}
			return ms, s.fail("expected ',' or '}' after object member")
		}
	}
	s.skipSpace()
	if s.pos != len(data) {
		return ms, s.fail("invalid character after top-level value")
	}
	return ms, nil
}

// value scans any JSON value at s.pos (whitespace already skipped).
func (s *scanner) value() (jsonKind, error) {
	if s.pos >= len(s.data) {
		return 0, s.fail("unexpected end of JSON input")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, err := s.str()
		return kindString, err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return kindNumber, err
	case c == 't':
		return kindBool, s.literal("true")
	case c == 'f':
		return kindBool, s.literal("false")
	case c == 'n':
		return kindNull, s.literal("null")
	case c == '{' || c == '[':
		return s.container()
	default:
		return 0, s.fail("invalid character looking for beginning of value")
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// container scans an object or array, checking nesting depth.
func (s *scanner) container() (jsonKind, error) {
	open := s.data[s.pos]
	kind, closer := kindObject, byte('}')
	if open == '[' {
		kind, closer = kindArray, ']'
	}
	s.depth++
	if s.depth > maxDepth {
		return 0, s.fail("exceeded max depth")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == closer {
		s.pos++
		s.depth--
		return kind, nil
	}
	for {
		s.skipSpace()
		if kind == kindObject {
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return 0, s.fail("expected string for object key")
			}
			if _, err := s.str(); err != nil {
				return 0, err
			}
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return 0, s.fail("expected ':' after object key")
			}
			s.pos++
			s.skipSpace()
		}
		if _, err := s.value(); err != nil {
			return 0, err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return 0, s.fail("unexpected end of JSON input")
		}
		if s.data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.data[s.pos] == closer {
			s.pos++
			s.depth--
			return kind, nil
		}
		return 0, s.fail("expected ',' or closing bracket")
	}
}

// str scans a string starting at its opening quote; it reports whether the
// string contains escapes.
func (s *scanner) str() (bool, error) {
	s.pos++ // opening quote
	esc := false
	for s.pos < len(s.data) {
		// Fast path: skip plain bytes (the common case) 8 at a time, then
		// one at a time with a table lookup.
		for s.pos+8 <= len(s.data) {
			x := binary.LittleEndian.Uint64(s.data[s.pos:])
			if x&hi != 0 {
				s.nonASCII = true
			}
			if special(x) {
				break
			}
			s.pos += 8
		}
		for s.pos < len(s.data) && plain[s.data[s.pos]] {
			if s.data[s.pos] >= 0x80 {
				s.nonASCII = true
			}
			s.pos++
		}
		if s.pos >= len(s.data) {
			break
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return esc, nil
		case c == '\\':
			esc = true
			s.pos++
			if s.pos >= len(s.data) {
				return esc, s.fail("unexpected end of JSON input")
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for i := 0; i < 4; i++ {
					if s.pos >= len(s.data) || !isHex(s.data[s.pos]) {
						return esc, s.fail("invalid \\u escape in string")
					}
					s.pos++
				}
			default:
				return esc, s.fail("invalid escape in string")
			}
		case c < 0x20:
			return esc, s.fail("invalid control character in string")
		default:
			s.pos++
		}
	}
	return esc, s.fail("unexpected end of JSON input")
}

const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// special reports whether any byte of x is '"', '\\' or a control
// character (< 0x20): the classic "has zero byte" / "has less than" bit
// tricks, exact for bytes below 0x80 (bytes >= 0x80 never trigger them).
func special(x uint64) bool {
	q := x ^ (lo * '"')
	b := x ^ (lo * '\\')
	return ((q-lo)&^q|(b-lo)&^b|(x-lo*0x20)&^x)&hi != 0
}

// plain marks the bytes that stand for themselves inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans a JSON number; it reports whether it is an integer literal.
func (s *scanner) number() (bool, error) {
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	if s.pos >= len(d) || !isDigit(d[s.pos]) {
		return false, s.fail("invalid number")
	}
	if d[s.pos] == '0' {
		s.pos++
	} else {
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	intLit := true
	if s.pos < len(d) && d[s.pos] == '.' {
		intLit = false
		s.pos++
		if s.pos >= len(d) || !isDigit(d[s.pos]) {
			return false, s.fail("invalid number")
		}
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		intLit = false
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(d) || !isDigit(d[s.pos]) {
			return false, s.fail("invalid number")
		}
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	return intLit, nil
}
