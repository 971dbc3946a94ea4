// Package boltqueue is the embedded work queue: durable on disk in one bbolt
// file that holds the main queue and its dead-letter queue, with SQS
// standard-queue semantics (visibility timeout, receive counts, a DLQ after
// MaxReceiveCount receives, redrive, long polling).
//
// Layout: each queue ("main", "dlq") is a bbolt bucket with two sub-buckets:
// "msgs" maps an 8-byte sequence number to the message record (JSON), and
// "ready" is an index keyed by visible-at time (8 bytes) + sequence, so a
// receive reads the messages that are visible now in order, without
// scanning the rest.
//
// bbolt takes an exclusive file lock: one process opens the queue at a time.
// A second process waits Options.LockTimeout and then gets fault.Transient.
package boltqueue

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/queue"
)

// SQS limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
const (
	maxBatch       = 10
	maxMessageSize = 256 * 1024
	// DefaultVisibilityTimeout is SQS's default.
	DefaultVisibilityTimeout = 30 * time.Second
)

const (
	mainQueue = "main"
	deadQueue = "dlq"
)

var (
	bucketMsgs  = []byte("msgs")
	bucketReady = []byte("ready")
	bucketMeta  = []byte("meta")
)

// Options configure a queue.
type Options struct {
	// VisibilityTimeout is used when Receive is called with visibility <= 0.
	// Default 30s.
	VisibilityTimeout time.Duration
	// MaxReceiveCount moves a message to the DLQ once it has been received
	// this many times without being deleted (0: never).
	MaxReceiveCount int
	// Now is the queue's clock (default time.Now). Visibility, SentAt and
	// depth use it; long-poll waits are real time.
	Now func() time.Time
	// NewID makes message ids (default random UUIDs).
	NewID func() string
	// LockTimeout bounds the wait for another process's lock on the file
	// (default 1s).
	LockTimeout time.Duration
}

// Queue is a main queue with its dead-letter queue. It implements
// queue.Queue and queue.DeadLettered.
type Queue struct {
	*view
	dlq *view
}

var (
	_ queue.Queue        = (*Queue)(nil)
	_ queue.DeadLettered = (*Queue)(nil)
	_ queue.Queue        = (*view)(nil)
)

// shared is what the main queue and the DLQ views have in common.
type shared struct {
	db    *bolt.DB
	path  string
	opts  Options
	mu    sync.Mutex
	waits map[string]chan struct{} // per queue: closed when messages may have become visible
}

// view is one of the two queues in the file.
type view struct {
	s          *shared
	name       string
	maxReceive int
}

// Open opens (creating if needed) the queue file at path.
func Open(path string, opts Options) (*Queue, error) {
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.NewString
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fault.New(fault.Transient, "boltqueue.Open "+path, fmt.Errorf("queue file is locked by another process: %w", err))
		}
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{mainQueue, deadQueue} {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			for _, sub := range [][]byte{bucketMsgs, bucketReady} {
				if _, err := b.CreateBucketIfNotExists(sub); err != nil {
					return err
				}
			}
		}
		_, err := tx.CreateBucketIfNotExists(bucketMeta)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init queue %s: %w", path, err)
	}
	s := &shared{db: db, path: path, opts: opts, waits: map[string]chan struct{}{}}
	return &Queue{
		view: &view{s: s, name: mainQueue, maxReceive: opts.MaxReceiveCount},
		dlq:  &view{s: s, name: deadQueue},
	}, nil
}

// Close closes the file; the queue must not be used afterwards.
func (q *Queue) Close() error { return q.s.db.Close() }

// Path is the queue file.
func (q *Queue) Path() string { return q.s.path }

// DeadLetters returns the dead-letter queue.
func (q *Queue) DeadLetters() queue.Queue { return q.dlq }

// record is one stored message.
type record struct {
	ID           string            `json:"id"`
	Body         string            `json:"body"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	SentAt       time.Time         `json:"sent_at"`
	ReceiveCount int               `json:"receive_count"`
	VisibleAt    int64             `json:"visible_at"` // Unix ns
	// Receipt is the nonce of the latest receive; a handle carrying another
	// nonce is stale.
	Receipt uint64 `json:"receipt,omitempty"`
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

func readyKey(visibleAt int64, seq uint64) []byte {
	var k [16]byte
	// Times before 1970 do not occur; clamp so the order stays right.
	binary.BigEndian.PutUint64(k[:8], uint64(max(visibleAt, 0)))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k[:]
}

func (v *view) buckets(tx *bolt.Tx) (msgs, ready *bolt.Bucket) {
	b := tx.Bucket([]byte(v.name))
	return b.Bucket(bucketMsgs), b.Bucket(bucketReady)
}

func (v *view) now() time.Time { return v.s.opts.Now() }

// waitCh returns the channel that is closed at the next wake-up of v.
func (v *view) waitCh() <-chan struct{} {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	ch, ok := v.s.waits[v.name]
	if !ok {
		ch = make(chan struct{})
		v.s.waits[v.name] = ch
	}
	return ch
}

// wake tells long-polling receivers of the named queue to look again.
func (s *shared) wake(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.waits[name]; ok {
		close(ch)
		delete(s.waits, name)
	}
}

func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fault.New(fault.Canceled, op, err)
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return fault.New(fault.Transient, op, err)
	}
	return fault.New(fault.Unknown, op, err)
}

var entryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// badBody says why SQS would refuse a body, or "".
func badBody(body string, attrs map[string]string) string {
	if body == "" {
		return "message body is empty"
	}
	size := len(body)
	for k, v := range attrs {
		size += len(k) + len(v)
	}
	if size > maxMessageSize {
		return fmt.Sprintf("message of %d bytes exceeds %d", size, maxMessageSize)
	}
	if !utf8.ValidString(body) {
		return "message body is not UTF-8"
	}
	for _, r := range body {
		if !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)) {
			return fmt.Sprintf("message body contains invalid character %U", r)
		}
	}
	return ""
}

// SendBatch sends up to 10 entries. Entries SQS would refuse (empty,
// oversized, invalid characters) are reported as sender faults.
func (v *view) SendBatch(ctx context.Context, entries []queue.SendEntry) ([]queue.SendFailure, error) {
	op := "boltqueue.SendBatch " + v.name
	if len(entries) == 0 || len(entries) > maxBatch {
		return nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("batch of %d entries (1..%d)", len(entries), maxBatch))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !entryID.MatchString(e.ID) {
			return nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("batch entry id %q must be 1-80 letters, digits, '-' or '_'", e.ID))
		}
		if seen[e.ID] {
			return nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("batch entry ids not distinct: %q", e.ID))
		}
		seen[e.ID] = true
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(op, err)
	}
	var failed []queue.SendFailure
	now := v.now()
	err := v.s.db.Update(func(tx *bolt.Tx) error {
		msgs, ready := v.buckets(tx)
		for _, e := range entries {
			if why := badBody(e.Body, e.Attributes); why != "" {
				failed = append(failed, queue.SendFailure{ID: e.ID, SenderFault: true, Code: "InvalidMessageContents", Message: why})
				continue
			}
			if err := v.insert(msgs, ready, &record{ID: v.s.opts.NewID(), Body: e.Body, Attributes: e.Attributes, SentAt: now, VisibleAt: now.UnixNano()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, opErr(op, err)
	}
	v.s.wake(v.name)
	return failed, nil
}

func (v *view) insert(msgs, ready *bolt.Bucket, rec *record) error {
	seq, err := msgs.NextSequence()
	if err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := msgs.Put(seqKey(seq), b); err != nil {
		return err
	}
	return ready.Put(readyKey(rec.VisibleAt, seq), nil)
}

func getRecord(msgs *bolt.Bucket, seq uint64) (*record, error) {
	b := msgs.Get(seqKey(seq))
	if b == nil {
		return nil, nil
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("decode message %d: %w", seq, err)
	}
	return &rec, nil
}

func putRecord(msgs *bolt.Bucket, seq uint64, rec *record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return msgs.Put(seqKey(seq), b)
}

// Receive returns up to max visible messages, hiding each for visibility
// (the queue default when <= 0). With wait > 0 it long-polls: it returns as
// soon as a message is sent or becomes visible, or when wait (real time)
// passes or ctx ends.
func (v *view) Receive(ctx context.Context, maxMsgs int, visibility, wait time.Duration) ([]queue.Message, error) {
	op := "boltqueue.Receive " + v.name
	if maxMsgs < 1 || maxMsgs > maxBatch {
		return nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("max %d (1..%d)", maxMsgs, maxBatch))
	}
	if visibility <= 0 {
		visibility = v.s.opts.VisibilityTimeout
	}
	deadline := time.Now().Add(wait)
	for {
		if err := ctx.Err(); err != nil {
			return nil, opErr(op, err)
		}
		wake := v.waitCh() // before looking, so a send in between is not missed
		msgs, next, err := v.take(maxMsgs, visibility)
		if err != nil {
			return nil, opErr(op, err)
		}
		remaining := time.Until(deadline)
		if len(msgs) > 0 || remaining <= 0 {
			return msgs, nil
		}
		// Sleep until a send wakes us, the earliest hidden message becomes
		// visible (measured on the queue clock), the wait ends, or ctx ends.
		sleep := remaining
		if next > 0 {
			sleep = min(sleep, max(time.Duration(next-v.now().UnixNano()), 10*time.Millisecond))
		}
		timer := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, opErr(op, ctx.Err())
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// take receives up to max visible messages in one transaction and returns
// them with the visible-at time (Unix ns) of the earliest still-hidden
// message (0 if none).
func (v *view) take(max int, visibility time.Duration) ([]queue.Message, int64, error) {
	var out []queue.Message
	var next int64
	moved := false
	now := v.now()
	err := v.s.db.Update(func(tx *bolt.Tx) error {
		msgs, ready := v.buckets(tx)
		type pick struct {
			key []byte
			seq uint64
			rec *record
		}
		var deliver, dead []pick
		c := ready.Cursor()
		for k, _ := c.First(); k != nil && len(deliver) < max; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
				break
			}
			seq := binary.BigEndian.Uint64(k[8:])
			rec, err := getRecord(msgs, seq)
			if err != nil {
				return err
			}
			p := pick{key: bytes.Clone(k), seq: seq, rec: rec}
			if rec == nil {
				dead = append(dead, p) // dangling index entry: drop it
				continue
			}
			if v.maxReceive > 0 && rec.ReceiveCount >= v.maxReceive {
				dead = append(dead, p)
				continue
			}
			deliver = append(deliver, p)
		}
		for _, p := range dead {
			if err := ready.Delete(p.key); err != nil {
				return err
			}
			if p.rec == nil {
				continue
			}
			// SQS moves a message whose receive count exceeds maxReceiveCount
			// to the DLQ, keeping its id, body, attributes and count.
			if err := msgs.Delete(seqKey(p.seq)); err != nil {
				return err
			}
			dmsgs, dready := (&view{s: v.s, name: deadQueue}).buckets(tx)
			rec := *p.rec
			rec.Receipt = 0
			rec.VisibleAt = now.UnixNano()
			if err := v.insert(dmsgs, dready, &rec); err != nil {
				return err
			}
			moved = true
		}
		meta := tx.Bucket(bucketMeta)
		for _, p := range deliver {
			nonce, err := meta.NextSequence()
			if err != nil {
				return err
			}
			if err := ready.Delete(p.key); err != nil {
				return err
			}
			p.rec.ReceiveCount++
			p.rec.Receipt = nonce
			p.rec.VisibleAt = now.Add(visibility).UnixNano()
			if err := putRecord(msgs, p.seq, p.rec); err != nil {
				return err
			}
			if err := ready.Put(readyKey(p.rec.VisibleAt, p.seq), nil); err != nil {
				return err
			}
			out = append(out, queue.Message{
				MessageID:     p.rec.ID,
				ReceiptHandle: handle{queue: v.name, seq: p.seq, nonce: nonce}.String(),
				Body:          p.rec.Body,
				Attributes:    p.rec.Attributes,
				ReceiveCount:  p.rec.ReceiveCount,
				SentAt:        p.rec.SentAt,
			})
		}
		if k, _ := ready.Cursor().First(); k != nil {
			next = int64(binary.BigEndian.Uint64(k[:8]))
		}
		return nil
	})
	if moved {
		v.s.wake(deadQueue)
	}
	return out, next, err
}

// handle is a receipt handle: which queue, which message, which receive.
type handle struct {
	queue string
	seq   uint64
	nonce uint64
}

func (h handle) String() string {
	return fmt.Sprintf("bq1.%s.%x.%x", h.queue, h.seq, h.nonce)
}

func parseHandle(s string) (handle, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 || parts[0] != "bq1" {
		return handle{}, fmt.Errorf("malformed receipt handle %q", s)
	}
	seq, err1 := strconv.ParseUint(parts[2], 16, 64)
	nonce, err2 := strconv.ParseUint(parts[3], 16, 64)
	if err1 != nil || err2 != nil || (parts[1] != mainQueue && parts[1] != deadQueue) {
		return handle{}, fmt.Errorf("malformed receipt handle %q", s)
	}
	return handle{queue: parts[1], seq: seq, nonce: nonce}, nil
}

// current finds the message a handle names and checks the handle is from
// its latest receive.
func (v *view) current(op string, msgs *bolt.Bucket, receipt string) (handle, *record, error) {
	h, err := parseHandle(receipt)
	if err != nil {
		return h, nil, fault.New(fault.InvalidArgument, op, err)
	}
	if h.queue != v.name {
		return h, nil, fault.New(fault.InvalidArgument, op, fmt.Errorf("receipt handle belongs to queue %s", h.queue))
	}
	rec, err := getRecord(msgs, h.seq)
	if err != nil {
		return h, nil, err
	}
	if rec == nil {
		return h, nil, fault.New(fault.NotFound, op, errors.New("message no longer in the queue"))
	}
	if rec.Receipt != h.nonce {
		return h, nil, fault.New(fault.PreconditionFailed, op, errors.New("receipt handle is stale: the message was received again since"))
	}
	return h, rec, nil
}

// Delete acknowledges a message. Deleting a message that is already gone
// succeeds (as in SQS); a stale handle of a message that is still there is
// fault.PreconditionFailed and leaves it alone.
func (v *view) Delete(ctx context.Context, receipt string) error {
	op := "boltqueue.Delete " + v.name
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	err := v.s.db.Update(func(tx *bolt.Tx) error {
		msgs, ready := v.buckets(tx)
		h, rec, err := v.current(op, msgs, receipt)
		if fault.Is(err, fault.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := msgs.Delete(seqKey(h.seq)); err != nil {
			return err
		}
		return ready.Delete(readyKey(rec.VisibleAt, h.seq))
	})
	return opErr(op, err)
}

// ChangeVisibility sets the remaining visibility timeout of a received
// message; zero makes it visible at once.
func (v *view) ChangeVisibility(ctx context.Context, receipt string, visibility time.Duration) error {
	op := "boltqueue.ChangeVisibility " + v.name
	if visibility < 0 {
		return fault.New(fault.InvalidArgument, op, fmt.Errorf("negative visibility %s", visibility))
	}
	if err := ctx.Err(); err != nil {
		return opErr(op, err)
	}
	err := v.s.db.Update(func(tx *bolt.Tx) error {
		msgs, ready := v.buckets(tx)
		h, rec, err := v.current(op, msgs, receipt)
		if err != nil {
			return err
		}
		if err := ready.Delete(readyKey(rec.VisibleAt, h.seq)); err != nil {
			return err
		}
		rec.VisibleAt = v.now().Add(visibility).UnixNano()
		if err := putRecord(msgs, h.seq, rec); err != nil {
			return err
		}
		return ready.Put(readyKey(rec.VisibleAt, h.seq), nil)
	})
	if err == nil && visibility == 0 {
		v.s.wake(v.name)
	}
	return opErr(op, err)
}

// Depth counts visible and in-flight messages (exactly; SQS's are approximate).
func (v *view) Depth(ctx context.Context) (queue.Depth, error) {
	var d queue.Depth
	now := uint64(max(v.now().UnixNano(), 0))
	err := v.s.db.View(func(tx *bolt.Tx) error {
		_, ready := v.buckets(tx)
		return ready.ForEach(func(k, _ []byte) error {
			if binary.BigEndian.Uint64(k[:8]) <= now {
				d.Visible++
			} else {
				d.InFlight++
			}
			return nil
		})
	})
	return d, opErr("boltqueue.Depth "+v.name, err)
}

// Peek returns up to max messages in send order without receiving them
// (no receipt handles, counts unchanged), for `elt queue` inspection.
func (v *view) Peek(ctx context.Context, max int) ([]queue.Message, error) {
	var out []queue.Message
	err := v.s.db.View(func(tx *bolt.Tx) error {
		msgs, _ := v.buckets(tx)
		c := msgs.Cursor()
		for k, b := c.First(); k != nil && (max <= 0 || len(out) < max); k, b = c.Next() {
			var rec record
			if err := json.Unmarshal(b, &rec); err != nil {
				return fmt.Errorf("decode message: %w", err)
			}
			out = append(out, queue.Message{MessageID: rec.ID, Body: rec.Body, Attributes: rec.Attributes, ReceiveCount: rec.ReceiveCount, SentAt: rec.SentAt})
		}
		return nil
	})
	return out, opErr("boltqueue.Peek "+v.name, err)
}

// Redrive moves up to max (all when max <= 0) visible messages from the
// DLQ back to the main queue with their receive counts reset. Messages
// in flight in the DLQ (being inspected) stay.
func (q *Queue) Redrive(ctx context.Context, max int) (int, error) {
	const chunk = 500
	moved := 0
	for max <= 0 || moved < max {
		if err := ctx.Err(); err != nil {
			return moved, opErr("boltqueue.Redrive", err)
		}
		limit := chunk
		if max > 0 {
			limit = min(chunk, max-moved)
		}
		n := 0
		now := q.now()
		err := q.s.db.Update(func(tx *bolt.Tx) error {
			dmsgs, dready := q.dlq.buckets(tx)
			msgs, ready := q.buckets(tx)
			var keys [][]byte
			c := dready.Cursor()
			for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
				if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
					break
				}
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				seq := binary.BigEndian.Uint64(k[8:])
				rec, err := getRecord(dmsgs, seq)
				if err != nil {
					return err
				}
				if err := dready.Delete(k); err != nil {
					return err
				}
				if rec == nil {
					continue
				}
				if err := dmsgs.Delete(seqKey(seq)); err != nil {
					return err
				}
				rec.ReceiveCount, rec.Receipt, rec.VisibleAt = 0, 0, now.UnixNano()
				if err := q.insert(msgs, ready, rec); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return moved, opErr("boltqueue.Redrive", err)
		}
		moved += n
		if n == 0 {
			break
		}
		q.s.wake(mainQueue)
	}
	return moved, nil
}
