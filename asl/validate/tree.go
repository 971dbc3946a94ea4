package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// node is one JSON value of the raw document. Unlike the map[string]any that
// encoding/json produces, it keeps every object member in document order
// (duplicates included, which encoding/json silently collapses) and the byte
// offset where the value starts, so problems can be sorted in reading order.
type node struct {
	kind    kind
	off     int64
	b       bool
	num     json.Number
	str     string
	arr     []*node
	members []member
}

type member struct {
	key string
	val *node
}

// get returns the value of the last member named key, as encoding/json (and
// so the engine) would see it, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for i := len(n.members) - 1; i >= 0; i-- {
		if n.members[i].key == key {
			return n.members[i].val
		}
	}
	return nil
}

func (n *node) has(key string) bool { return n.get(key) != nil }

// syntaxError is a malformed document, with the offset where decoding failed.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// parseTree decodes data into a node tree. Numbers stay json.Number.
func parseTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &treeParser{dec: dec, data: data}
	root, err := p.value()
	if err != nil {
		return nil, p.wrap(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the top-level value")
		}
		return nil, p.wrap(err)
	}
	return root, nil
}

type treeParser struct {
	dec  *json.Decoder
	data []byte
}

func (p *treeParser) wrap(err error) error {
	var se *json.SyntaxError
	off := p.dec.InputOffset()
	if errors.As(err, &se) {
		off = se.Offset
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("unexpected end of JSON input")
		off = int64(len(p.data))
	}
	return &syntaxError{off: off, msg: err.Error()}
}

// start returns the offset of the next token, skipping the whitespace and
// separators that InputOffset still counts.
func (p *treeParser) start() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.data)) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (p *treeParser) value() (*node, error) {
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	return p.fromToken(tok, off)
}

func (p *treeParser) fromToken(tok json.Token, off int64) (*node, error) {
	n := &node{off: off}
	switch t := tok.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.b = kindBool, t
	case json.Number:
		n.kind, n.num = kindNumber, t
	case string:
		n.kind, n.str = kindString, t
	case json.Delim:
		switch t {
		case '[':
			n.kind = kindArray
			for p.dec.More() {
				el, err := p.value()
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, el)
			}
		case '{':
			n.kind = kindObject
			for p.dec.More() {
				kt, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %v, not a string", kt)
				}
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key: key, val: v})
			}
		default:
			return nil, fmt.Errorf("unexpected %q", t)
		}
		// The closing delimiter.
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unexpected token %v", tok)
	}
	return n, nil
}

// plain converts the node to the values encoding/json produces with
// UseNumber (map[string]any, []any, json.Number, ...); for duplicate keys the
// last one wins, as in encoding/json.
func (n *node) plain() any {
	switch n.kind {
	case kindNull:
		return nil
	case kindBool:
		return n.b
	case kindNumber:
		return n.num
	case kindString:
		return n.str
	case kindArray:
		out := make([]any, len(n.arr))
		for i, el := range n.arr {
			out[i] = el.plain()
		}
		return out
	default:
		out := make(map[string]any, len(n.members))
		for _, m := range n.members {
			out[m.key] = m.val.plain()
		}
		return out
	}
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// ptr appends one reference token to a JSON Pointer (RFC 6901).
func ptr(base string, token any) string {
	switch t := token.(type) {
	case int:
		return base + "/" + strconv.Itoa(t)
	case string:
		t = strings.ReplaceAll(t, "~", "~0")
		t = strings.ReplaceAll(t, "/", "~1")
		return base + "/" + t
	default:
		panic(fmt.Sprintf("ptr: unsupported token %T", token))
	}
}
