package jsonpath

import (
	"encoding/json"
	"strconv"
	"strings"
)

// maxFilterDepth bounds parenthesis/negation nesting in filters so hostile input cannot
// exhaust the stack.
const maxFilterDepth = 64

// Parse parses a JSONPath expression starting with "$" (input) or "$$" (context object).
func Parse(expr string) (*Path, error) {
	p := &parser{src: expr}
	if !strings.HasPrefix(expr, "$") {
		return nil, p.errAt(0, "a path must start with '$'")
	}
	path := &Path{src: expr}
	p.i = 1
	if strings.HasPrefix(expr, "$$") {
		path.context = true
		p.i = 2
	}
	segs, err := p.segments(false, 0)
	if err != nil {
		return nil, err
	}
	if p.i != len(expr) {
		return nil, p.errAt(p.i, "unexpected character %q", expr[p.i])
	}
	path.segs = segs
	return path, nil
}

type parser struct {
	src string
	i   int
}

func (p *parser) errAt(off int, format string, args ...any) *SyntaxError {
	msg := format
	if len(args) > 0 {
		msg = sprintf(format, args...)
	}
	return &SyntaxError{Expr: p.src, Offset: off, Msg: msg}
}

func (p *parser) peek() byte {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.i < len(p.src) && isSpace(p.src[p.i]) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isNameStop lists the bytes that end a dot-notation name.
func isNameStop(c byte) bool {
	if isSpace(c) {
		return true
	}
	return strings.IndexByte(".[]()',\"*?@$<>=!&|", c) >= 0
}

// segments parses segments until a byte that cannot start one. In a filter (inFilter) that
// byte ends the operand; at top level the caller reports it.
func (p *parser) segments(inFilter bool, depth int) ([]segment, error) {
	var segs []segment
	for p.i < len(p.src) {
		start := p.i
		switch p.src[p.i] {
		case '.':
			deep := false
			p.i++
			if p.peek() == '.' {
				deep = true
				p.i++
			}
			switch c := p.peek(); {
			case c == '*':
				p.i++
				segs = append(segs, segment{kind: segWildcard, pos: start, deep: deep})
			case c == '[':
				s, err := p.bracket(depth)
				if err != nil {
					return nil, err
				}
				s.pos, s.deep = start, deep
				segs = append(segs, s)
			case p.i >= len(p.src) || isNameStop(c):
				return nil, p.errAt(p.i, "expected a field name, '*' or '[' after '.'")
			default:
				n := p.i
				for p.i < len(p.src) && !isNameStop(p.src[p.i]) {
					p.i++
				}
				segs = append(segs, segment{kind: segName, pos: start, deep: deep, name: p.src[n:p.i]})
			}
		case '[':
			s, err := p.bracket(depth)
			if err != nil {
				return nil, err
			}
			s.pos = start
			segs = append(segs, s)
		default:
			if inFilter {
				return segs, nil
			}
			return nil, p.errAt(p.i, "unexpected character %q (expected '.' or '[')", p.src[p.i])
		}
	}
	return segs, nil
}

// bracket parses "[...]" starting at '['.
func (p *parser) bracket(depth int) (segment, error) {
	open := p.i
	p.i++ // '['
	p.skipSpace()
	var s segment
	switch c := p.peek(); {
	case c == '*':
		p.i++
		s = segment{kind: segWildcard}
	case c == '?':
		p.i++
		p.skipSpace()
		if p.peek() != '(' {
			return s, p.errAt(p.i, "expected '(' after '?'")
		}
		p.i++
		e, err := p.orExpr(depth + 1)
		if err != nil {
			return s, err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return s, p.errAt(p.i, "expected ')' to close the filter")
		}
		p.i++
		s = segment{kind: segFilter, filter: e}
	case c == '\'' || c == '"':
		var names []string
		for {
			name, err := p.quoted()
			if err != nil {
				return s, err
			}
			names = append(names, name)
			p.skipSpace()
			if p.peek() != ',' {
				break
			}
			p.i++
			p.skipSpace()
			if c := p.peek(); c != '\'' && c != '"' {
				return s, p.errAt(p.i, "expected a quoted name in the union")
			}
		}
		if len(names) == 1 {
			s = segment{kind: segName, name: names[0]}
		} else {
			s = segment{kind: segUnion, names: names}
		}
	case c == '-' || c == ':' || (c >= '0' && c <= '9'):
		var err error
		s, err = p.indexOrSlice()
		if err != nil {
			return s, err
		}
	case p.i >= len(p.src):
		return s, p.errAt(open, "unclosed '['")
	default:
		return s, p.errAt(p.i, "unexpected character %q in brackets", c)
	}
	p.skipSpace()
	if p.peek() != ']' {
		if p.i >= len(p.src) {
			return s, p.errAt(open, "unclosed '['")
		}
		return s, p.errAt(p.i, "expected ']'")
	}
	p.i++
	return s, nil
}

// quoted parses a single- or double-quoted name; a backslash escapes the next byte.
func (p *parser) quoted() (string, error) {
	q := p.src[p.i]
	open := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '\\':
			if p.i+1 >= len(p.src) {
				return "", p.errAt(p.i, "unfinished escape")
			}
			b.WriteByte(p.src[p.i+1])
			p.i += 2
		case c == q:
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errAt(open, "unterminated quoted name")
}

func (p *parser) int() (int, bool, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	d := p.i
	for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
		p.i++
	}
	if p.i == d {
		if p.i > start {
			return 0, false, p.errAt(start, "expected digits after '-'")
		}
		return 0, false, nil
	}
	n, err := strconv.Atoi(p.src[start:p.i])
	if err != nil {
		return 0, false, p.errAt(start, "integer out of range")
	}
	return n, true, nil
}

func (p *parser) indexOrSlice() (segment, error) {
	start := p.i
	first, ok, err := p.int()
	if err != nil {
		return segment{}, err
	}
	p.skipSpace()
	switch p.peek() {
	case ':':
		s := segment{kind: segSlice, step: 1}
		if ok {
			s.start = &first
		}
		p.i++
		p.skipSpace()
		end, ok, err := p.int()
		if err != nil {
			return s, err
		}
		if ok {
			s.end = &end
		}
		p.skipSpace()
		if p.peek() == ':' {
			p.i++
			p.skipSpace()
			at := p.i
			step, ok, err := p.int()
			if err != nil {
				return s, err
			}
			if ok {
				if step == 0 {
					return s, p.errAt(at, "slice step must not be zero")
				}
				s.step = step
			}
		}
		return s, nil
	case ',':
		if !ok {
			return segment{}, p.errAt(start, "expected an index")
		}
		idx := []int{first}
		for p.peek() == ',' {
			p.i++
			p.skipSpace()
			at := p.i
			n, ok, err := p.int()
			if err != nil {
				return segment{}, err
			}
			if !ok {
				return segment{}, p.errAt(at, "expected an index in the union")
			}
			idx = append(idx, n)
			p.skipSpace()
		}
		return segment{kind: segUnion, indexes: idx}, nil
	default:
		if !ok {
			return segment{}, p.errAt(start, "expected an index")
		}
		return segment{kind: segIndex, index: first}, nil
	}
}

// Filter expressions: or := and ('||' and)*; and := unary ('&&' unary)*;
// unary := '!' unary | '(' or ')' | operand [op operand].
func (p *parser) orExpr(depth int) (expr, error) {
	if depth > maxFilterDepth {
		return nil, p.errAt(p.i, "filter nested too deeply")
	}
	l, err := p.andExpr(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.i:], "||") {
			return l, nil
		}
		p.i += 2
		r, err := p.andExpr(depth)
		if err != nil {
			return nil, err
		}
		l = &logicExpr{and: false, l: l, r: r}
	}
}

func (p *parser) andExpr(depth int) (expr, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.i:], "&&") {
			return l, nil
		}
		p.i += 2
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &logicExpr{and: true, l: l, r: r}
	}
}

func (p *parser) unary(depth int) (expr, error) {
	if depth > maxFilterDepth {
		return nil, p.errAt(p.i, "filter nested too deeply")
	}
	p.skipSpace()
	switch p.peek() {
	case '!':
		if !strings.HasPrefix(p.src[p.i:], "!=") {
			p.i++
			e, err := p.unary(depth + 1)
			if err != nil {
				return nil, err
			}
			return &notExpr{e: e}, nil
		}
	case '(':
		p.i++
		e, err := p.orExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return nil, p.errAt(p.i, "expected ')'")
		}
		p.i++
		return e, nil
	}
	at := p.i
	l, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	op := ""
	for _, o := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(p.src[p.i:], o) {
			op = o
			break
		}
	}
	if op == "" {
		if l.path == nil {
			return nil, p.errAt(at, "a literal alone is not a condition; compare it with ==, !=, <, <=, > or >=")
		}
		return &existsExpr{path: l.path}, nil
	}
	p.i += len(op)
	p.skipSpace()
	r, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	return &cmpExpr{op: op, l: l, r: r}, nil
}

func (p *parser) operand(depth int) (operand, error) {
	p.skipSpace()
	start := p.i
	switch c := p.peek(); {
	case c == '@' || c == '$':
		p.i++
		rp := &relPath{root: c == '$'}
		segs, err := p.segments(true, depth)
		if err != nil {
			return operand{}, err
		}
		rp.segs = segs
		rp.definite = (&Path{segs: segs}).IsDefinite()
		return operand{path: rp}, nil
	case c == '\'' || c == '"':
		s, err := p.quoted()
		if err != nil {
			return operand{}, err
		}
		return operand{lit: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := p.number()
		if err != nil {
			return operand{}, err
		}
		return operand{lit: n}, nil
	}
	for _, kw := range []struct {
		word string
		val  any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(p.src[p.i:], kw.word) {
			p.i += len(kw.word)
			return operand{lit: kw.val}, nil
		}
	}
	if p.i >= len(p.src) {
		return operand{}, p.errAt(start, "unfinished filter")
	}
	return operand{}, p.errAt(start, "expected '@', '$', a quoted string, a number, true, false or null")
}

// number scans a JSON number.
func (p *parser) number() (json.Number, error) {
	n, end, ok := scanNumber(p.src, p.i)
	if !ok {
		return "", p.errAt(p.i, "malformed number")
	}
	p.i = end
	return n, nil
}

// scanNumber reads a JSON number at s[i:]; it returns the number, the offset after it and
// whether it is well formed.
func scanNumber(s string, i int) (json.Number, int, bool) {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return "", i, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return "", i, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return "", i, false
		}
	}
	return json.Number(s[start:i]), i, true
}
