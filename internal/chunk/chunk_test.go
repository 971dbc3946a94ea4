package chunk

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/serverless-elt/elt/internal/objstore"
)

// reference splits content into lines the obvious way: each line with its
// start offset; a trailing '\n' does not start an extra line.
func reference(content []byte) (offs []int64, lines []string) {
	start := 0
	for i, c := range content {
		if c == '\n' {
			offs, lines = append(offs, int64(start)), append(lines, string(content[start:i]))
			start = i + 1
		}
	}
	if start < len(content) {
		offs, lines = append(offs, int64(start)), append(lines, string(content[start:]))
	}
	return
}

// readAll reads every chunk of content with chunkBytes and returns the
// lines in order.
func readAll(t testing.TB, content []byte, chunkBytes int64, maxLine int, smallReads bool) (offs []int64, lines []string) {
	for _, rng := range Plan(int64(len(content)), chunkBytes) {
		var src io.Reader = bytes.NewReader(content[ReadStart(rng):])
		if smallReads {
			src = iotest.HalfReader(iotest.OneByteReader(src))
		}
		r := NewReader(src, rng, maxLine)
		want := 1
		for {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chunk %+v: %v", rng, err)
			}
			if l.Offset < rng.Offset || l.Offset >= rng.Offset+rng.Length {
				t.Fatalf("line at %d outside chunk %+v", l.Offset, rng)
			}
			if l.Number != want {
				t.Fatalf("line number %d, want %d", l.Number, want)
			}
			want++
			if l.Size != int64(len(l.Text)) && !l.Oversized {
				t.Fatalf("size %d != len %d", l.Size, len(l.Text))
			}
			offs, lines = append(offs, l.Offset), append(lines, string(l.Text))
		}
	}
	return
}

func TestPlan(t *testing.T) {
	cases := []struct {
		size, chunk int64
		want        []objstore.Range
	}{
		{0, 10, []objstore.Range{{Offset: 0, Length: 0}}},
		{5, 10, []objstore.Range{{Offset: 0, Length: 5}}},
		{10, 10, []objstore.Range{{Offset: 0, Length: 10}}},
		{25, 10, []objstore.Range{{Offset: 0, Length: 10}, {Offset: 10, Length: 10}, {Offset: 20, Length: 5}}},
		{7, 0, []objstore.Range{{Offset: 0, Length: 7}}},
	}
	for _, c := range cases {
		got := Plan(c.size, c.chunk)
		if len(got) != len(c.want) {
			t.Fatalf("Plan(%d,%d) = %v", c.size, c.chunk, got)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("Plan(%d,%d) = %v", c.size, c.chunk, got)
			}
		}
	}
	// A million 150-byte records in 64 MiB chunks is a handful of messages.
	if n := len(Plan(150_000_000, 64<<20)); n != 3 {
		t.Fatalf("chunks %d", n)
	}
}

// Property: for random content and random chunk sizes, the chunks together
// yield every line exactly once, in order, with the right offsets.
func TestEveryLineExactlyOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\n\n\r{}\"x")
	for iter := 0; iter < 3000; iter++ {
		n := rng.IntN(200)
		if iter%100 == 0 {
			n = rng.IntN(5000)
		}
		content := make([]byte, n)
		for i := range content {
			content[i] = alphabet[rng.IntN(len(alphabet))]
		}
		chunkBytes := int64(1 + rng.IntN(max(n, 1)+3))
		wantOffs, wantLines := reference(content)
		offs, lines := readAll(t, content, chunkBytes, 1<<20, iter%7 == 0)
		if len(lines) != len(wantLines) {
			t.Fatalf("iter %d chunk %d: %d lines, want %d\ncontent %q", iter, chunkBytes, len(lines), len(wantLines), content)
		}
		for i := range lines {
			if lines[i] != wantLines[i] || offs[i] != wantOffs[i] {
				t.Fatalf("iter %d chunk %d: line %d = %q@%d, want %q@%d", iter, chunkBytes, i, lines[i], offs[i], wantLines[i], wantOffs[i])
			}
		}
	}
}

func TestOversizedLine(t *testing.T) {
	long := strings.Repeat("x", 6000)
	content := []byte("a\n" + long + "\nb\n" + long)
	for _, chunkBytes := range []int64{1, 3, 5000, 1 << 30} {
		var got []Line
		for _, rng := range Plan(int64(len(content)), chunkBytes) {
			r := NewReader(bytes.NewReader(content[ReadStart(rng):]), rng, 1000)
			for {
				l, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				l.Text = append([]byte(nil), l.Text...)
				got = append(got, l)
			}
		}
		if len(got) != 4 {
			t.Fatalf("chunk %d: %d lines", chunkBytes, len(got))
		}
		for _, i := range []int{1, 3} {
			if !got[i].Oversized || got[i].Size != 6000 || len(got[i].Text) != 1000 {
				t.Fatalf("chunk %d line %d: %+v", chunkBytes, i, got[i].Size)
			}
		}
		if string(got[2].Text) != "b" || got[2].Offset != int64(2+6001) || got[0].Oversized || !got[3].Unterminated {
			t.Fatalf("chunk %d: %q", chunkBytes, got[2].Text)
		}
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadErrorIsReported(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(&failingReader{data: []byte("a\nbc"), err: boom}, objstore.Range{Offset: 0, Length: -1}, 0)
	l, err := r.Next()
	if err != nil || string(l.Text) != "a" {
		t.Fatal(l, err)
	}
	l, err = r.Next()
	if err != nil || string(l.Text) != "bc" || !l.Unterminated {
		t.Fatal(l, err)
	}
	if _, err = r.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func FuzzChunks(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint16(1))
	f.Add([]byte("\n\n\nabc\r\n{}\n"), uint16(3))
	f.Add([]byte("no newline"), uint16(4))
	f.Fuzz(func(t *testing.T, content []byte, chunk uint16) {
		wantOffs, wantLines := reference(content)
		offs, lines := readAll(t, content, int64(chunk)+1, 1<<20, false)
		if len(lines) != len(wantLines) {
			t.Fatalf("%d lines, want %d", len(lines), len(wantLines))
		}
		for i := range lines {
			if lines[i] != wantLines[i] || offs[i] != wantOffs[i] {
				t.Fatalf("line %d = %q@%d, want %q@%d", i, lines[i], offs[i], wantLines[i], wantOffs[i])
			}
		}
	})
}
