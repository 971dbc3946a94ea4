// Package decode streams candidate records out of a bronze object (or one
// chunk of it): JSON Lines or JSON (one top-level array, or a stream of
// top-level objects), optionally gzip-compressed, with a UTF-8 BOM, CRLF line
// ends and blank lines tolerated. It never aborts on bad input: an oversized
// line, a truncated object (gzip unexpected EOF, an unterminated array) or,
// in JSON, a syntax error that ends the stream come back as Items with Bad
// set, after every complete element before them. Only a failure of the
// underlying reader (the object store) is returned as an error, so the caller
// can tell "retry later" from "quarantine this".
//
// For JSON Lines the decoder does not check JSON syntax: each line goes to
// records.Parser, which scans it once and classifies malformed JSON and
// non-objects. Memory stays flat: lines are read through a bounded buffer and
// JSON array elements are held one at a time.
package decode

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/serverless-elt/elt/internal/chunk"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/work"
)

// Options say how to read the input.
type Options struct {
	Format work.Format
	Gzip   bool
	// Range is the chunk to read (JSONL without gzip only); the reader passed
	// to New must start at chunk.ReadStart(Range). Length < 0 or the zero
	// Range means the whole object.
	Range objstore.Range
	// MaxLineBytes bounds one line or JSON element (default 1 MiB).
	MaxLineBytes int
	// MaxRawBytes bounds the raw text kept for a bad item (default 64 KiB).
	MaxRawBytes int
}

// Item is one candidate record or one piece of bad input.
type Item struct {
	// Data is the raw JSON text of a candidate record; it is valid until the
	// next call to Next. Nil when Bad is set.
	Data []byte
	// Offset is the byte offset of the item in the (decompressed) object.
	Offset int64
	// Line is the 1-based line number within the chunk (JSON Lines), else 0.
	Line int
	// Index is the element's index in its JSON array (or its ordinal among
	// top-level JSON values); -1 for JSON Lines.
	Index int
	// Bad, when set, says why this input cannot be a record.
	Bad *Bad
}

// Bad is undecodable input.
type Bad struct {
	Reason records.Reason
	Detail string
	// Raw is a bounded prefix of the input's text (may be empty).
	Raw []byte
}

// Decoder yields Items.
type Decoder struct {
	opts  Options
	src   *trackingReader
	lines *chunk.Reader
	json  *jsonStream
	done  bool
}

// trackingReader remembers the underlying reader's error, so a decompression
// error can be told apart from a failed read.
type trackingReader struct {
	r   io.Reader
	err error
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// New returns a decoder over r. For gzip input, a bad gzip header is
// reported as a Bad item by the first Next, not as an error.
func New(r io.Reader, opts Options) *Decoder {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = chunk.DefaultMaxLineBytes
	}
	if opts.MaxRawBytes <= 0 {
		opts.MaxRawBytes = 64 << 10
	}
	if opts.Gzip || opts.Format == work.JSON || opts.Range == (objstore.Range{}) {
		opts.Range = objstore.Range{Offset: 0, Length: -1}
	}
	return &Decoder{opts: opts, src: &trackingReader{r: r}}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Next returns the next item, io.EOF at the end, or an error when the
// underlying reader failed (the caller should retry the whole unit later).
func (d *Decoder) Next() (Item, error) {
	if d.done {
		return Item{}, io.EOF
	}
	if d.lines == nil && d.json == nil {
		var in io.Reader = d.src
		if d.opts.Gzip {
			zr, err := gzip.NewReader(d.src)
			if err != nil {
				d.done = true
				if d.src.err != nil {
					return Item{}, fmt.Errorf("read object: %w", d.src.err)
				}
				if err == io.EOF {
					return Item{}, io.EOF // empty object
				}
				return Item{Index: -1, Bad: &Bad{Reason: records.Truncated, Detail: "gzip: " + err.Error()}}, nil
			}
			in = zr
		}
		if d.opts.Format == work.JSON {
			d.json = newJSONStream(in, d.opts)
		} else {
			d.lines = chunk.NewReader(in, d.opts.Range, d.opts.MaxLineBytes)
		}
	}
	if d.json != nil {
		it, err := d.json.next()
		return d.finish(it, err)
	}
	for {
		l, err := d.lines.Next()
		if err != nil {
			if err == io.EOF {
				d.done = true
				return Item{}, io.EOF
			}
			d.done = true
			if d.src.err != nil {
				return Item{}, fmt.Errorf("read object: %w", err)
			}
			// The decompressor failed with nothing of the line read.
			return Item{Offset: l.Offset, Index: -1, Bad: &Bad{Reason: records.Truncated, Detail: cause(err)}}, nil
		}
		text := l.Text
		if l.Offset == 0 && bytes.HasPrefix(text, bom) {
			text = text[len(bom):]
		}
		if l.Unterminated {
			if rerr := d.lines.Err(); rerr != nil {
				d.done = true
				if d.src.err != nil {
					return Item{}, fmt.Errorf("read object: %w", rerr)
				}
				return Item{Offset: l.Offset, Line: l.Number, Index: -1, Bad: &Bad{Reason: records.Truncated, Detail: "line cut off: " + cause(rerr), Raw: d.prefix(text)}}, nil
			}
		}
		if l.Oversized {
			return Item{Offset: l.Offset, Line: l.Number, Index: -1, Bad: &Bad{
				Reason: records.Oversized,
				Detail: fmt.Sprintf("line of %d bytes exceeds the limit of %d", l.Size, d.opts.MaxLineBytes),
				Raw:    d.prefix(text),
			}}, nil
		}
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		if blank(text) {
			continue
		}
		return Item{Data: text, Offset: l.Offset, Line: l.Number, Index: -1}, nil
	}
}

func (d *Decoder) finish(it Item, err error) (Item, error) {
	if err == io.EOF {
		d.done = true
		return Item{}, io.EOF
	}
	if err != nil {
		d.done = true
		if d.src.err != nil {
			return Item{}, fmt.Errorf("read object: %w", d.src.err)
		}
		return Item{}, err
	}
	if it.Bad != nil && (it.Bad.Reason == records.Truncated || it.Bad.Reason == records.MalformedJSON) {
		if d.src.err != nil {
			d.done = true
			return Item{}, fmt.Errorf("read object: %w", d.src.err)
		}
		d.done = true // the stream cannot resync after these
	}
	return it, nil
}

func (d *Decoder) prefix(b []byte) []byte {
	if len(b) > d.opts.MaxRawBytes {
		b = b[:d.opts.MaxRawBytes]
	}
	return append([]byte(nil), b...)
}

// cause strips our wrapping from a read error for a quarantine reason.
func cause(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of compressed data"
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(err) {
		err = u
	}
	return err.Error()
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// jsonStream reads a JSON document: one top-level array whose elements are
// the records, and/or a stream of top-level values.
type jsonStream struct {
	opts    Options
	br      *bufio.Reader
	dec     *json.Decoder
	base    int64 // bytes consumed before dec started (BOM)
	inArray bool
	index   int
	raw     json.RawMessage
}

func newJSONStream(r io.Reader, opts Options) *jsonStream {
	return &jsonStream{opts: opts, br: bufio.NewReaderSize(r, 64<<10)}
}

func (s *jsonStream) bad(reason records.Reason, detail string, off int64) Item {
	var raw []byte
	if s.dec != nil {
		raw, _ = io.ReadAll(io.LimitReader(io.MultiReader(s.dec.Buffered(), s.br), int64(s.opts.MaxRawBytes)))
	}
	return Item{Offset: off, Index: s.index, Bad: &Bad{Reason: reason, Detail: detail, Raw: raw}}
}

func (s *jsonStream) next() (Item, error) {
	if s.dec == nil {
		if b, err := s.br.Peek(3); err == nil && bytes.Equal(b, bom) {
			s.br.Discard(3)
			s.base = 3
		}
		// Is the document an array? Look past leading whitespace.
		for {
			c, err := s.br.ReadByte()
			if err != nil {
				if err == io.EOF {
					return Item{}, io.EOF
				}
				return s.readFailure(err, s.base)
			}
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				s.base++
				continue
			}
			s.br.UnreadByte()
			s.inArray = c == '['
			break
		}
		s.dec = json.NewDecoder(s.br)
		if s.inArray {
			if _, err := s.dec.Token(); err != nil {
				return s.readFailure(err, s.base)
			}
		}
	}
	if s.inArray {
		if !s.dec.More() {
			off := s.base + s.dec.InputOffset()
			tok, err := s.dec.Token()
			if err != nil || tok != json.Delim(']') {
				if err == nil {
					err = fmt.Errorf("unexpected %v", tok)
				}
				return s.classify(err, off, "unterminated JSON array")
			}
			s.inArray = false
			s.index = 0
		}
	}
	if !s.inArray && !s.dec.More() {
		// More is false at EOF and before a stray closing bracket.
		if _, err := s.dec.Token(); err != io.EOF {
			return s.classify(err, s.base+s.dec.InputOffset(), "invalid JSON after the last value")
		}
		return Item{}, io.EOF
	}
	start := s.base + s.dec.InputOffset()
	s.raw = s.raw[:0]
	if err := s.dec.Decode(&s.raw); err != nil {
		return s.classify(err, start, "element cut off")
	}
	end := s.base + s.dec.InputOffset()
	it := Item{Offset: end - int64(len(s.raw)), Index: s.index}
	s.index++
	if len(s.raw) > s.opts.MaxLineBytes {
		raw := s.raw[:s.opts.MaxRawBytes]
		it.Bad = &Bad{Reason: records.Oversized, Detail: fmt.Sprintf("JSON element of %d bytes exceeds the limit of %d", len(s.raw), s.opts.MaxLineBytes), Raw: append([]byte(nil), raw...)}
		return it, nil
	}
	it.Data = s.raw
	return it, nil
}

// classify turns a json.Decoder error into a Bad item (the stream ends).
func (s *jsonStream) classify(err error, off int64, truncated string) (Item, error) {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF:
		return s.bad(records.Truncated, truncated, off), nil
	case errors.As(err, &se):
		return s.bad(records.MalformedJSON, se.Error(), off), nil
	default:
		// gzip corruption or a store failure; Decoder.finish tells which.
		it := s.bad(records.Truncated, cause(err), off)
		return it, nil
	}
}

func (s *jsonStream) readFailure(err error, off int64) (Item, error) {
	return s.classify(err, off, "unexpected end of input")
}

// Detect infers the format and compression of a bronze object from its key:
// .jsonl/.ndjson are JSON Lines, .json is JSON, an extra .gz means gzip.
// Unknown extensions are read as JSON Lines (the common case for event
// dumps), so nothing is skipped silently.
func Detect(key string) (work.Format, bool) {
	k := strings.ToLower(key)
	gz := strings.HasSuffix(k, ".gz")
	k = strings.TrimSuffix(k, ".gz")
	if path.Ext(k) == ".json" {
		return work.JSON, gz
	}
	return work.JSONL, gz
}
