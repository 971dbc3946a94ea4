// Package chunk splits line-delimited objects into byte ranges and reads the
// lines of one range, following the Hadoop split rule (see internal/work):
// a line belongs to the chunk in which it starts. A line starts at offset 0
// and right after every '\n'. The reader of a range [o, o+n) therefore skips
// the partial first line unless o is 0 (the byte at o-1 tells whether a line
// starts exactly at o), and reads past o+n to finish the last line that
// starts inside the range. Consecutive ranges cover every line exactly once
// without the planner ever reading the object.
package chunk

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/serverless-elt/elt/internal/objstore"
)

// Plan splits an object of size bytes into ranges of chunkBytes (the last one
// shorter). An empty object still gets one (empty) range so that every object
// yields at least one unit of work.
func Plan(size, chunkBytes int64) []objstore.Range {
	if chunkBytes <= 0 {
		chunkBytes = size
	}
	if size <= 0 {
		return []objstore.Range{{Offset: 0, Length: 0}}
	}
	n := (size + chunkBytes - 1) / chunkBytes
	out := make([]objstore.Range, 0, n)
	for off := int64(0); off < size; off += chunkBytes {
		l := min(chunkBytes, size-off)
		out = append(out, objstore.Range{Offset: off, Length: l})
	}
	return out
}

// ReadStart is where the reader of rng must start reading the object: one
// byte before the range (to see whether a line starts at its first byte),
// or 0.
func ReadStart(rng objstore.Range) int64 {
	if rng.Offset > 0 {
		return rng.Offset - 1
	}
	return 0
}

// Line is one line of a chunk.
type Line struct {
	// Offset is the byte offset of the line's first byte in the object.
	Offset int64
	// Number is the 1-based line number within the chunk.
	Number int
	// Text is the line without its '\n' (a '\r' before it is kept; the
	// decoder strips it). It is valid until the next call to Next.
	// For an oversized line it is a prefix of at most MaxLineBytes bytes.
	Text []byte
	// Size is the full length of the line in bytes, without the '\n'.
	Size int64
	// Oversized is set when Size exceeds the reader's MaxLineBytes.
	Oversized bool
	// Unterminated is set for a last line that ends at end of input
	// without a '\n' (normal for the last line of a file; the decoder uses it
	// with a read error to tell a truncation).
	Unterminated bool
}

// Reader reads the lines of one chunk.
type Reader struct {
	br      *bufio.Reader
	pos     int64 // object offset of the next unread byte
	end     int64 // lines starting at or after end belong to the next chunk
	maxLine int
	started bool
	skip    bool
	n       int
	buf     []byte
	err     error
	eof     bool
}

// DefaultMaxLineBytes bounds one line (1 MiB); longer lines are reported as
// oversized with a prefix of this size.
const DefaultMaxLineBytes = 1 << 20

// NewReader reads the lines of rng from r, which must yield the object's
// bytes from ReadStart(rng) onwards (to the end of the object or at least
// past the end of the last line starting in rng). rng.Length < 0 means to
// the end. maxLine <= 0 means DefaultMaxLineBytes.
func NewReader(r io.Reader, rng objstore.Range, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	end := int64(-1)
	if rng.Length >= 0 {
		end = rng.Offset + rng.Length
	}
	// Small ranges get small buffers (a reader may be made per message).
	bufSize := 256 << 10
	if rng.Length >= 0 && rng.Length < 64<<10 {
		bufSize = 4 << 10
	}
	return &Reader{
		br:      bufio.NewReaderSize(r, bufSize),
		pos:     ReadStart(rng),
		end:     end,
		maxLine: maxLine,
		skip:    rng.Offset > 0,
	}
}

// Next returns the next line of the chunk. It returns io.EOF after the last
// line, or the underlying read error (wrapped) if reading failed; a line
// cut short by a read error is still returned first, with Unterminated set.
func (r *Reader) Next() (Line, error) {
	if r.err != nil {
		return Line{}, r.err
	}
	if r.skip {
		r.skip = false
		// Discard through the first '\n' at or after ReadStart.
		for {
			b, err := r.br.ReadSlice('\n')
			r.pos += int64(len(b))
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return Line{}, r.setErr(err)
		}
	}
	if r.eof || (r.end >= 0 && r.pos >= r.end) {
		r.err = io.EOF
		return Line{}, io.EOF
	}
	line := Line{Offset: r.pos}
	r.buf = r.buf[:0]
	var text []byte
	for {
		b, err := r.br.ReadSlice('\n')
		r.pos += int64(len(b))
		content := b
		if err == nil {
			content = b[:len(b)-1]
		}
		line.Size += int64(len(content))
		switch {
		case err == nil && len(r.buf) == 0 && !line.Oversized:
			text = content // fast path: the whole line is in the buffer
		case !line.Oversized:
			if room := r.maxLine - len(r.buf); room > 0 {
				r.buf = append(r.buf, content[:min(room, len(content))]...)
			}
			text = r.buf
		}
		if line.Size > int64(r.maxLine) {
			line.Oversized = true
			if len(text) > r.maxLine {
				text = text[:r.maxLine]
			}
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		// End of input (or a read error) before the '\n'.
		r.eof = true
		line.Unterminated = true
		if err != io.EOF {
			r.err = fmt.Errorf("read line at offset %d: %w", line.Offset, err)
		}
		if line.Size == 0 {
			if r.err != nil {
				return Line{}, r.err
			}
			r.err = io.EOF
			return Line{}, io.EOF
		}
		break
	}
	r.n++
	line.Number = r.n
	line.Text = text
	return line, nil
}

// Err returns the read error that ended the chunk, if any (nil for a clean
// end of input). Callers check it when a line comes back Unterminated to
// tell a cut-off line from a normal last line.
func (r *Reader) Err() error {
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

func (r *Reader) setErr(err error) error {
	if err == io.EOF {
		r.err = io.EOF
	} else {
		r.err = fmt.Errorf("read chunk at offset %d: %w", r.pos, err)
	}
	return r.err
}
