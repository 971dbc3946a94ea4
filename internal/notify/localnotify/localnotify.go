// Package localnotify is the embedded notifier: an outbox file (JSON Lines)
// that records each notification's id, time, subject and message, durably,
// so tests and `elt` can list what would have gone to SNS.
package localnotify

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
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/notify"
)

// SNS limits (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html):
// a subject is at most 100 printable ASCII characters without line breaks;
// a message is at most 256 KiB.
const (
	maxSubject = 100
	maxMessage = 256 * 1024
)

// Notification is one published notification.
type Notification struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Subject string    `json:"subject,omitempty"`
	Message string    `json:"message"`
}

// Options configure an outbox.
type Options struct {
	Now   func() time.Time // default time.Now
	NewID func() string    // default random UUIDs (SNS MessageId shape)
}

// Outbox is the local notifier.
type Outbox struct {
	path  string
	now   func() time.Time
	newID func() string
	mu    sync.Mutex
}

var _ notify.Notifier = (*Outbox)(nil)

// New returns an outbox writing to path (created on the first Publish).
func New(path string, opts Options) (*Outbox, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	return &Outbox{path: path, now: opts.Now, newID: opts.NewID}, nil
}

// Path is the outbox file.
func (o *Outbox) Path() string { return o.path }

func checkSubject(s string) error {
	if len(s) > maxSubject {
		return fmt.Errorf("subject of %d characters exceeds %d", len(s), maxSubject)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("subject contains %U (printable ASCII only, no line breaks)", r)
		}
	}
	return nil
}

// Publish appends a notification and returns its id.
func (o *Outbox) Publish(ctx context.Context, subject, message string) (string, error) {
	op := "localnotify.Publish"
	if err := checkSubject(subject); err != nil {
		return "", fault.New(fault.InvalidArgument, op, err)
	}
	if message == "" || len(message) > maxMessage || !utf8.ValidString(message) {
		return "", fault.New(fault.InvalidArgument, op, fmt.Errorf("message must be 1..%d bytes of UTF-8", maxMessage))
	}
	if err := ctx.Err(); err != nil {
		return "", fault.New(fault.Canceled, op, err)
	}
	n := Notification{ID: o.newID(), Time: o.now().UTC(), Subject: subject, Message: message}
	line, err := json.Marshal(n)
	if err != nil {
		return "", fault.New(fault.Unknown, op, err)
	}
	line = append(line, '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.OpenFile(o.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return "", fault.New(fault.Transient, op, err)
	}
	defer f.Close()
	if err := cutTornTail(f); err != nil {
		return "", fault.New(fault.Unknown, op, err)
	}
	if _, err := f.Write(line); err != nil {
		return "", fault.New(fault.Transient, op, err)
	}
	if err := f.Sync(); err != nil {
		return "", fault.New(fault.Transient, op, err)
	}
	return n.ID, nil
}

// cutTornTail truncates f after its last newline, dropping a line a crash
// left half-written, so the next append starts on a line of its own.
func cutTornTail(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	end := fi.Size()
	var last [1]byte
	if _, err := f.ReadAt(last[:], end-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	buf := make([]byte, 4096)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return f.Truncate(end - n + int64(i) + 1)
		}
		end -= n
	}
	return f.Truncate(0)
}

// List returns every notification in publish order. A line torn by a crash
// during a publish (the last one, without its newline) is skipped.
func (o *Outbox) List(ctx context.Context) ([]Notification, error) {
	f, err := os.Open(o.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fault.New(fault.Unknown, "localnotify.List", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var out []Notification
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return out, nil // a partial last line is a torn write
		}
		if err != nil {
			return out, fault.New(fault.Unknown, "localnotify.List", err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var n Notification
		if err := json.Unmarshal(line, &n); err != nil {
			return out, fault.New(fault.Unknown, "localnotify.List", fmt.Errorf("outbox line: %w", err))
		}
		out = append(out, n)
	}
}
