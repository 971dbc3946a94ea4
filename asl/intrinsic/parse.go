package intrinsic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

// Parse parses one intrinsic function call, e.g. "States.Format('{}', $.a)", checking the
// function name and arity. Whitespace is allowed around arguments.
func Parse(expr string) (*Call, error) {
	p := &parser{src: expr}
	c, err := p.call(1)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(expr) {
		return nil, p.errAt(p.i, "unexpected text after the call")
	}
	return c, nil
}

type parser struct {
	src string
	i   int
}

func (p *parser) errAt(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Expr: p.src, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) peek() byte {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t' || p.src[p.i] == '\n' || p.src[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) call(depth int) (*Call, error) {
	start := p.i
	if depth > MaxNesting {
		return nil, p.errAt(start, "intrinsic functions nest at most %d deep", MaxNesting)
	}
	if !strings.HasPrefix(p.src[p.i:], "States.") {
		return nil, p.errAt(start, "expected an intrinsic function name starting with 'States.'")
	}
	p.i += len("States.")
	for p.i < len(p.src) && isIdent(p.src[p.i]) {
		p.i++
	}
	name := p.src[start:p.i]
	spec, ok := Lookup(name)
	if !ok {
		return nil, p.errAt(start, "unknown intrinsic function %q", name)
	}
	if p.peek() != '(' {
		return nil, p.errAt(p.i, "expected '(' after %s", name)
	}
	p.i++
	c := &Call{Name: name, Pos: start, spec: spec}
	p.skipSpace()
	if p.peek() == ')' {
		p.i++
	} else {
		for {
			a, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, a)
			p.skipSpace()
			switch p.peek() {
			case ',':
				p.i++
				continue
			case ')':
				p.i++
			case 0:
				return nil, p.errAt(p.i, "missing ')' to close %s", name)
			default:
				return nil, p.errAt(p.i, "expected ',' or ')'")
			}
			break
		}
	}
	if n := len(c.Args); n < spec.MinArgs || (spec.MaxArgs >= 0 && n > spec.MaxArgs) {
		return nil, p.errAt(start, "%s takes %s, got %d", name, spec.arity(), n)
	}
	return c, nil
}

func (p *parser) arg(depth int) (Arg, error) {
	p.skipSpace()
	start := p.i
	c := p.peek()
	switch {
	case c == '\'':
		return p.str()
	case c == '$':
		return p.path()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case strings.HasPrefix(p.src[p.i:], "States."):
		call, err := p.call(depth + 1)
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: ArgCall, Pos: start, Call: call}, nil
	}
	for _, kw := range []struct {
		word string
		arg  Arg
	}{{"true", Arg{Kind: ArgBool, Bool: true}}, {"false", Arg{Kind: ArgBool}}, {"null", Arg{Kind: ArgNull}}} {
		if strings.HasPrefix(p.src[p.i:], kw.word) && (p.i+len(kw.word) == len(p.src) || !isIdent(p.src[p.i+len(kw.word)])) {
			p.i += len(kw.word)
			kw.arg.Pos = start
			return kw.arg, nil
		}
	}
	if c == 0 {
		return Arg{}, p.errAt(start, "missing argument")
	}
	return Arg{}, p.errAt(start, "expected an argument: 'string', number, true, false, null, a path or an intrinsic function")
}

// str parses a single-quoted string; \' \{ \} \\ are the only escapes AWS defines.
func (p *parser) str() (Arg, error) {
	start := p.i
	p.i++
	var cur, all strings.Builder
	var parts []string
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.src) || strings.IndexByte(`'{}\`, p.src[p.i+1]) < 0 {
				return Arg{}, p.errAt(p.i, `open escape: a backslash must be followed by ', {, } or \`)
			}
			cur.WriteByte(p.src[p.i+1])
			all.WriteByte(p.src[p.i+1])
			p.i += 2
		case '\'':
			p.i++
			return Arg{Kind: ArgString, Pos: start, Str: all.String(), parts: append(parts, cur.String())}, nil
		case '{':
			if p.i+1 < len(p.src) && p.src[p.i+1] == '}' {
				parts = append(parts, cur.String())
				cur.Reset()
				all.WriteString("{}")
				p.i += 2
				continue
			}
			fallthrough
		default:
			cur.WriteByte(c)
			all.WriteByte(c)
			p.i++
		}
	}
	return Arg{}, p.errAt(start, "unterminated string literal")
}

func (p *parser) number() (Arg, error) {
	start := p.i
	i := p.i
	if i < len(p.src) && p.src[i] == '-' {
		i++
	}
	for i < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[i]) >= 0 {
		i++
	}
	text := p.src[start:i]
	var n json.Number
	if err := json.Unmarshal([]byte(text), &n); err != nil || text == "" {
		return Arg{}, p.errAt(start, "malformed number %q", text)
	}
	p.i = i
	return Arg{Kind: ArgNumber, Pos: start, Num: n}, nil
}

// path takes the text up to the next ',' or ')' (or whitespace) outside brackets and quotes
// and parses it as a JSONPath.
func (p *parser) path() (Arg, error) {
	start := p.i
	depth := 0
	var quote byte
	i := p.i
scan:
	for ; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth <= 0 && (c == ',' || c == ')' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			break scan
		}
	}
	if i > len(p.src) {
		i = len(p.src)
	}
	text := p.src[start:i]
	path, err := jsonpath.Parse(text)
	if err != nil {
		var se *jsonpath.SyntaxError
		if errors.As(err, &se) {
			return Arg{}, p.errAt(start+se.Offset, "%s", se.Msg)
		}
		return Arg{}, p.errAt(start, "%v", err)
	}
	p.i = i
	return Arg{Kind: ArgPath, Pos: start, Path: path}, nil
}
