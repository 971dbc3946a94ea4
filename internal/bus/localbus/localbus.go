// Package localbus is the embedded event bus: events are appended durably to
// a JSON Lines log (one EventBridge-shaped event per line, with an id), and
// named subscriptions drain it in order with a durable cursor, which is how
// the embedded stack runs its rules (partition ready -> quality gate, ...).
//
// Delivery is at-least-once: a subscription's cursor moves past an event
// only after its handler returned nil, so a crash in between delivers the
// event again. Any number of processes may read the log while one appends.
package localbus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/serverless-elt/elt/internal/bus"
	"github.com/serverless-elt/elt/internal/fault"
)

// maxEntries is EventBridge's PutEvents limit.
const maxEntries = 10

// Entry is one logged event: the event and its id (what EventBridge
// delivers to a rule target as "id").
type Entry struct {
	ID string `json:"id"`
	bus.Event
	// Offset is where the entry starts in the log and Next where the one
	// after it starts (not stored).
	Offset int64 `json:"-"`
	Next   int64 `json:"-"`
}

// Options configure a bus.
type Options struct {
	// Now stamps events put without a Time (default time.Now).
	Now func() time.Time
	// NewID makes event ids (default random UUIDs).
	NewID func() string
	// PollInterval is how often Wait looks at the file for events appended
	// by another process (default 1s); appends by this process wake it at once.
	PollInterval time.Duration
}

// Bus is the local event bus.
type Bus struct {
	path  string
	now   func() time.Time
	newID func() string
	poll  time.Duration

	mu   sync.Mutex
	f    *os.File // opened O_APPEND
	wake chan struct{}
}

var _ bus.Bus = (*Bus)(nil)

// Open opens (creating if needed) the log at path. Opening never changes
// the file, so a reader process can open the log a writer is appending to.
func Open(path string, opts Options) (*Bus, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open bus %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open bus %s: %w", path, err)
	}
	return &Bus{path: path, now: opts.Now, newID: opts.NewID, poll: opts.PollInterval, f: f, wake: make(chan struct{})}, nil
}

// wholeLines returns the length of f up to and including its last newline.
func wholeLines(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := fi.Size()
	buf := make([]byte, 4096)
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

// Close closes the log.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.f.Close()
}

// Path is the log file.
func (b *Bus) Path() string { return b.path }

func validate(e bus.Event) error {
	switch {
	case e.Source == "":
		return errors.New("event without source")
	case e.DetailType == "":
		return errors.New("event without detail-type")
	}
	d := bytes.TrimSpace(e.Detail)
	if len(d) == 0 || d[0] != '{' || !json.Valid(d) {
		return fmt.Errorf("detail of %s/%s is not a JSON object", e.Source, e.DetailType)
	}
	return nil
}

// Put appends events (1..10, as PutEvents) in one durable write.
func (b *Bus) Put(ctx context.Context, events []bus.Event) error {
	op := "localbus.Put"
	if len(events) == 0 || len(events) > maxEntries {
		return fault.New(fault.InvalidArgument, op, fmt.Errorf("%d events (1..%d)", len(events), maxEntries))
	}
	var buf bytes.Buffer
	for _, e := range events {
		if err := validate(e); err != nil {
			return fault.New(fault.InvalidArgument, op, err)
		}
		if e.Time.IsZero() {
			e.Time = b.now()
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, e.Detail); err != nil {
			return fault.New(fault.InvalidArgument, op, err)
		}
		e.Detail = compact.Bytes()
		line, err := json.Marshal(Entry{ID: b.newID(), Event: e})
		if err != nil {
			return fault.New(fault.InvalidArgument, op, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := ctx.Err(); err != nil {
		return fault.New(fault.Canceled, op, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// A line torn by a crash during an earlier append is cut off first, so
	// this append starts on a line of its own.
	size, err := wholeLines(b.f)
	if err != nil {
		return fault.New(fault.Unknown, op, err)
	}
	if fi, err := b.f.Stat(); err == nil && fi.Size() != size {
		if err := b.f.Truncate(size); err != nil {
			return fault.New(fault.Unknown, op, fmt.Errorf("cut torn tail: %w", err))
		}
	}
	if _, err := b.f.Write(buf.Bytes()); err != nil {
		b.f.Truncate(size) // keep the log whole lines
		return fault.New(fault.Transient, op, err)
	}
	if err := b.f.Sync(); err != nil {
		return fault.New(fault.Transient, op, err)
	}
	close(b.wake)
	b.wake = make(chan struct{})
	return nil
}

// state returns the log's whole-line size and the channel closed at the
// next append by this process.
func (b *Bus) state() (int64, <-chan struct{}, error) {
	b.mu.Lock()
	wake := b.wake
	b.mu.Unlock()
	f, err := os.Open(b.path)
	if err != nil {
		return 0, wake, err
	}
	defer f.Close()
	size, err := wholeLines(f)
	return size, wake, err
}

// Read returns up to max entries (max <= 0: all) starting at byte offset
// from (0 is the beginning) and the offset after the last one returned.
func (b *Bus) Read(ctx context.Context, from int64, max int) ([]Entry, int64, error) {
	size, _, err := b.state()
	if err != nil {
		return nil, from, fault.New(fault.Unknown, "localbus.Read", err)
	}
	if from < 0 || from > size {
		return nil, from, fault.New(fault.InvalidArgument, "localbus.Read", fmt.Errorf("offset %d outside log of %d bytes", from, size))
	}
	f, err := os.Open(b.path)
	if err != nil {
		return nil, from, fault.New(fault.Unknown, "localbus.Read", err)
	}
	defer f.Close()
	r := bufio.NewReader(io.NewSectionReader(f, from, size-from))
	var out []Entry
	off := from
	for max <= 0 || len(out) < max {
		if err := ctx.Err(); err != nil {
			return out, off, fault.New(fault.Canceled, "localbus.Read", err)
		}
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, off, fault.New(fault.Unknown, "localbus.Read", err)
		}
		var e Entry
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&e); err != nil {
			return out, off, fault.New(fault.Unknown, "localbus.Read", fmt.Errorf("log line at offset %d: %w", off, err))
		}
		e.Offset = off
		off += int64(len(line))
		e.Next = off
		out = append(out, e)
	}
	return out, off, nil
}

// Subscription is a named, durable reader of the log.
type Subscription struct {
	b          *Bus
	name       string
	cursorPath string
}

// Subscribe returns the subscription called name; its cursor lives beside
// the log (<log>.cursors/<name>) and starts at the beginning.
func (b *Bus) Subscribe(name string) (*Subscription, error) {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") {
		return nil, fault.New(fault.InvalidArgument, "localbus.Subscribe", fmt.Errorf("invalid subscription name %q", name))
	}
	dir := b.path + ".cursors"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", name, err)
	}
	return &Subscription{b: b, name: name, cursorPath: filepath.Join(dir, name)}, nil
}

type cursor struct {
	Offset int64 `json:"offset"`
}

// Cursor is the offset of the next event the subscription will get.
func (s *Subscription) Cursor() (int64, error) {
	raw, err := os.ReadFile(s.cursorPath)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return 0, fmt.Errorf("cursor %s: %w", s.cursorPath, err)
	}
	return c.Offset, nil
}

func (s *Subscription) setCursor(off int64) error {
	raw, _ := json.Marshal(cursor{Offset: off})
	tmp := s.cursorPath + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, s.cursorPath)
}

// Drain hands every event after the cursor to fn, in order, moving the
// cursor past each one fn accepts. It stops at the first error (that event
// comes again on the next Drain) and returns how many were handled.
func (s *Subscription) Drain(ctx context.Context, fn func(context.Context, Entry) error) (int, error) {
	off, err := s.Cursor()
	if err != nil {
		return 0, fault.New(fault.Unknown, "localbus.Drain "+s.name, err)
	}
	n := 0
	for {
		entries, _, err := s.b.Read(ctx, off, 100)
		if err != nil {
			return n, err
		}
		if len(entries) == 0 {
			return n, nil
		}
		for _, e := range entries {
			if err := fn(ctx, e); err != nil {
				return n, fmt.Errorf("subscription %s, event %s: %w", s.name, e.ID, err)
			}
			off = e.Next
			if err := s.setCursor(off); err != nil {
				return n, fault.New(fault.Unknown, "localbus.Drain "+s.name, err)
			}
			n++
		}
	}
}

// Pending reports whether events wait after the cursor.
func (s *Subscription) Pending() (bool, error) {
	off, err := s.Cursor()
	if err != nil {
		return false, err
	}
	size, _, err := s.b.state()
	return size > off, err
}

// Wait blocks until an event waits after the cursor or ctx ends.
func (s *Subscription) Wait(ctx context.Context) error {
	for {
		off, err := s.Cursor()
		if err != nil {
			return err
		}
		size, wake, err := s.b.state()
		if err != nil {
			return err
		}
		if size > off {
			return nil
		}
		timer := time.NewTimer(s.b.poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fault.New(fault.Canceled, "localbus.Wait "+s.name, ctx.Err())
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}
